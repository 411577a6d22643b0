package tlsctx

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strings"

	"github.com/sluice-proxy/sluice/config"
)

// Server is a downstream TLS context: a listener chain's (or a filter's
// own) TLS termination. It is safe for concurrent handshakes; Close stops
// its refresh.
type Server struct {
	base
	cfg      *tls.Config
	require  bool
	fullScan bool
}

// common returns the context's CommonTlsContext with the legacy shorthand
// folded in.
func common(t *config.TLSContext) *config.CommonTLSContext {
	c := config.CommonTLSContext{}
	if t.CommonTLSContext != nil {
		c = *t.CommonTLSContext
	}
	if t.CertificateFile != "" {
		c.TLSCertificates = append([]config.TLSCertificate{{
			CertificateChain: &config.DataSource{Filename: t.CertificateFile},
			PrivateKey:       &config.DataSource{Filename: t.PrivateKeyFile}}}, c.TLSCertificates...)
	}
	if t.ClientCAFile != "" {
		c.ValidationContext = &config.ValidationContext{TrustedCA: &config.DataSource{Filename: t.ClientCAFile}}
	}
	if len(t.ALPN) > 0 {
		c.ALPNProtocols = t.ALPN
	}
	return &c
}

// NewServer builds a downstream context and loads its material; errors
// name the field under opt.Path.
func NewServer(t *config.TLSContext, opt Options) (*Server, error) {
	c := common(t)
	in, err := newInputs(c, opt.Path, opt.Secrets)
	if err != nil {
		return nil, err
	}
	if len(in.certs)+len(in.certSDS) == 0 {
		return nil, fmt.Errorf("%s: a TLS listener needs a certificate", opt.Path)
	}
	if t.SessionTicketKeys != nil {
		in.tickets = t.SessionTicketKeys.Keys
	}
	policy := strings.ToUpper(t.OcspStaplePolicy)
	s := &Server{require: t.RequireClientCert, fullScan: t.FullScanCertsOnSNIMismatch}
	s.in, s.opt, s.sans = in, opt, compileSANs(c.ValidationContext)
	s.mustStaple = policy == "MUST_STAPLE" || policy == "STRICT_STAPLING"
	s.cfg = &tls.Config{NextProtos: c.ALPNProtocols, SessionTicketsDisabled: t.DisableStatelessSessionResumption}
	if err := applyParams(s.cfg, c.TLSParams, config.Join(opt.Path, "common_tls_context")); err != nil {
		return nil, err
	}
	s.cfg.GetCertificate = s.getCertificate
	if c.ValidationContext != nil || c.ValidationContextSdsSecretConfig != nil {
		// Verification is ours (VerifyConnection): the trust store rotates,
		// and Envoy's pins, SAN matchers and ACCEPT_UNTRUSTED have no
		// crypto/tls equivalent.
		// require_client_certificate is enforced there too, so that a
		// missing certificate counts as ssl.fail_verify_no_cert.
		s.cfg.ClientAuth = tls.RequestClientCert
		s.cfg.VerifyConnection = s.verifyClient
	}
	s.onUpdate = func(m *material) {
		if len(m.tickets) > 0 {
			s.cfg.SetSessionTicketKeys(m.tickets)
		}
	}
	if err := s.start(); err != nil {
		return nil, err
	}
	return s, nil
}

// Config returns the tls.Config handshakes use (shared; do not modify).
func (s *Server) Config() *tls.Config { return s.cfg }

// verifyClient checks the client's certificate against the current trust.
func (s *Server) verifyClient(cs tls.ConnectionState) error {
	m := s.cur.Load()
	if len(cs.PeerCertificates) == 0 {
		if s.require {
			return refuse(failNoCert, "the client sent no certificate and require_client_certificate is set")
		}
		return nil
	}
	if m.verify == nil {
		return nil
	}
	return m.verify.check(cs.PeerCertificates)
}

// Handshake runs the server handshake on c within ctx, counting ssl.*
// stats in st (nil: the context's own Options.Stats); a refusal is logged
// with its reason by the caller.
func (s *Server) Handshake(ctx context.Context, c net.Conn, st *Stats) (*tls.Conn, error) {
	if st == nil {
		st = s.opt.Stats
	}
	tc := tls.Server(c, s.cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		st.failure(err)
		return nil, err
	}
	cs := tc.ConnectionState()
	st.success(&cs)
	if len(cs.PeerCertificates) == 0 && st != nil {
		st.NoCertificate.Inc()
	}
	return tc, nil
}

var _ interface{ Close() error } = (*Server)(nil)
