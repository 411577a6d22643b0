package cluster

import (
	"context"
	"fmt"
	"net"
	"reflect"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/tlsctx"
)

// upstreamTLS is a cluster's transport socket: a built client context, or
// the error that kept it from building (then every connect fails: a
// cluster configured for TLS never falls back to plain text).
type upstreamTLS struct {
	cfg    *config.UpstreamTLSContext
	client *tlsctx.Client
	err    error
}

type sniKey struct{}

// WithDownstreamSNI returns ctx carrying the downstream connection's SNI,
// which a cluster with auto_sni sends upstream.
func WithDownstreamSNI(ctx context.Context, sni string) context.Context {
	if sni == "" {
		return ctx
	}
	return context.WithValue(ctx, sniKey{}, sni)
}

func downstreamSNI(ctx context.Context) string {
	s, _ := ctx.Value(sniKey{}).(string)
	return s
}

type handshakeKey struct{}

// WithHandshake returns ctx giving Dial's TLS handshake o: an HTTP pool's
// ALPN (by its configured protocol) and auto_sni / auto_san_validation.
func WithHandshake(ctx context.Context, o tlsctx.HandshakeOptions) context.Context {
	return context.WithValue(ctx, handshakeKey{}, o)
}

// HasTLS reports whether the cluster has a tls block (transport socket):
// Dial then returns connections that completed the TLS handshake.
func (c *Cluster) HasTLS() bool { return c.tls.Load() != nil }

// PrepareTLS builds the TLS contexts of the clusters of cfgs whose tls
// block is new or changed, so that a bad certificate refuses the config
// before anything is applied; the next Apply uses them. Errors carry the
// cluster's path.
func (m *Manager) PrepareTLS(cfgs []config.Cluster) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.dropPrepared()
	prepared := map[string]*upstreamTLS{}
	for i := range cfgs {
		cfg := &cfgs[i]
		if cfg.TLS == nil || m.sameTLS(cfg) {
			continue
		}
		u := m.buildTLS(cfg, fmt.Sprintf("clusters[%d].tls", i))
		if u.err != nil {
			for _, p := range prepared {
				p.client.Close()
			}
			return u.err
		}
		prepared[cfg.Name] = u
	}
	m.prepared = prepared
	return nil
}

func (m *Manager) dropPrepared() {
	for _, p := range m.prepared {
		if p.client != nil {
			p.client.Close()
		}
	}
	m.prepared = nil
}

// sameTLS reports whether the running cluster has this tls block already.
func (m *Manager) sameTLS(cfg *config.Cluster) bool {
	c := m.clusters[cfg.Name]
	if c == nil {
		return false
	}
	cur := c.tls.Load()
	return cur != nil && reflect.DeepEqual(cur.cfg, cfg.TLS)
}

func (m *Manager) buildTLS(cfg *config.Cluster, path string) *upstreamTLS {
	st := tlsctx.NewStats(m.root.Sub("cluster").Tagged("envoy_cluster_name", cfg.Name), "client_ssl_socket_factory")
	cl, err := tlsctx.NewClient(cfg.TLS, tlsctx.Options{Path: path, Stats: st, Log: m.log.With("cluster", cfg.Name), Secrets: m.Secrets})
	return &upstreamTLS{cfg: cfg.TLS, client: cl, err: err}
}

// setTLS gives c the tls block of cfg (prepared, kept, or built now),
// closing a replaced context. Called with m.mu held.
func (m *Manager) setTLS(c *Cluster, cfg *config.Cluster) {
	old := c.tls.Load()
	switch {
	case cfg.TLS == nil:
		c.tls.Store(nil)
	case old != nil && reflect.DeepEqual(old.cfg, cfg.TLS):
		return
	case m.prepared[cfg.Name] != nil:
		c.tls.Store(m.prepared[cfg.Name])
		delete(m.prepared, cfg.Name)
	default:
		u := m.buildTLS(cfg, "clusters["+cfg.Name+"].tls")
		if u.err != nil {
			c.log.Error("upstream TLS context does not build; connects to the cluster fail", "err", u.err)
		}
		c.tls.Store(u)
	}
	if old != nil && old.client != nil {
		old.client.Close()
	}
}

// closeTLS stops a removed cluster's context refresh.
func (c *Cluster) closeTLS() {
	if old := c.tls.Swap(nil); old != nil && old.client != nil {
		old.client.Close()
	}
}

// probeDialer dials for health checks through the cluster's transport
// socket, as Envoy's checks do: a TLS-only host is probed over TLS.
func (c *Cluster) probeDialer() dialFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := c.dialer(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return c.handshake(ctx, ctx, conn)
	}
}
