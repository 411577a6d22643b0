package tlsctx

import (
	"context"
	"crypto/tls"
	"net"

	"github.com/sluice-proxy/sluice/config"
)

// Client is an upstream TLS context: a cluster's transport socket. It is
// safe for concurrent handshakes; Close stops its refresh.
type Client struct {
	base
	cfg     *tls.Config
	sni     string
	autoSNI bool
}

// NewClient builds an upstream context and loads its material.
func NewClient(u *config.UpstreamTLSContext, opt Options) (*Client, error) {
	c := u.CommonTLSContext
	if c == nil {
		c = &config.CommonTLSContext{}
	}
	in, err := newInputs(c, opt.Path, opt.Secrets)
	if err != nil {
		return nil, err
	}
	cl := &Client{sni: u.SNI, autoSNI: u.AutoSNI}
	cl.in, cl.opt, cl.sans = in, opt, compileSANs(c.ValidationContext)
	// Verification is ours (VerifyConnection) so that the trust store
	// rotates and Envoy's SAN matchers and pins apply; without a
	// validation context the server is not verified, as in Envoy.
	cl.cfg = &tls.Config{NextProtos: c.ALPNProtocols, InsecureSkipVerify: true, VerifyConnection: cl.verifyServer,
		Renegotiation: tls.RenegotiateNever}
	if err := applyParams(cl.cfg, c.TLSParams, config.Join(opt.Path, "common_tls_context")); err != nil {
		return nil, err
	}
	keys := 1
	if u.MaxSessionKeys != nil {
		keys = int(*u.MaxSessionKeys)
	}
	if keys > 0 {
		cl.cfg.ClientSessionCache = tls.NewLRUClientSessionCache(keys)
	}
	cl.cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		if certs := cl.cur.Load().certs; len(certs) > 0 {
			return certs[0], nil
		}
		return &tls.Certificate{}, nil
	}
	if err := cl.start(); err != nil {
		return nil, err
	}
	return cl, nil
}

func (cl *Client) verifyServer(cs tls.ConnectionState) error {
	m := cl.cur.Load()
	if m.verify == nil {
		return nil
	}
	if len(cs.PeerCertificates) == 0 {
		return refuse(failNoCert, "the server sent no certificate")
	}
	return m.verify.check(cs.PeerCertificates)
}

// ServerName is the SNI to send: the configured sni, else with auto_sni
// the downstream's.
func (cl *Client) ServerName(downstream string) string {
	if cl.sni != "" {
		return cl.sni
	}
	if cl.autoSNI {
		return downstream
	}
	return ""
}

// Handshake runs the client handshake on c with the given SNI (empty: none),
// counting ssl.* stats.
func (cl *Client) Handshake(ctx context.Context, c net.Conn, sni string) (*tls.Conn, error) {
	return cl.HandshakeWith(ctx, c, sni, HandshakeOptions{})
}

// HandshakeOptions are what a connection's user asks of one handshake, as
// Envoy's transport socket options do: ALPNOverride replaces the context's
// alpn_protocols (auto_config offers h2 and http/1.1 whatever the context
// says); ALPNFallback is offered only when the context configures none (an
// explicit protocol); SNI, when set, replaces the SNI argument (an HTTP
// pool's auto_sni from the request's Host); VerifyName, when set, must be
// a name of the server's certificate (auto_san_validation), else the
// handshake fails as ssl.fail_verify_san.
type HandshakeOptions struct {
	ALPNOverride, ALPNFallback []string
	SNI, VerifyName            string
}

// HandshakeWith is Handshake under o.
func (cl *Client) HandshakeWith(ctx context.Context, c net.Conn, sni string, o HandshakeOptions) (*tls.Conn, error) {
	if o.SNI != "" {
		sni = o.SNI
	}
	cfg := cl.cfg
	protos := o.ALPNOverride
	if len(protos) == 0 && len(cfg.NextProtos) == 0 {
		protos = o.ALPNFallback
	}
	if sni != "" || len(protos) > 0 {
		cfg = cl.cfg.Clone()
		cfg.ServerName = sni
		if len(protos) > 0 {
			cfg.NextProtos = protos
		}
	}
	if o.VerifyName != "" {
		if cfg == cl.cfg {
			cfg = cl.cfg.Clone()
		}
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if err := cl.verifyServer(cs); err != nil {
				return err
			}
			if len(cs.PeerCertificates) == 0 {
				return refuse(failNoCert, "the server sent no certificate")
			}
			if err := cs.PeerCertificates[0].VerifyHostname(o.VerifyName); err != nil {
				return refuse(failSAN, "auto_san_validation: %v", err)
			}
			return nil
		}
	}
	tc := tls.Client(c, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		cl.opt.Stats.failure(err)
		return nil, err
	}
	st := tc.ConnectionState()
	cl.opt.Stats.success(&st)
	return tc, nil
}
