// Package tcpproxy is the tcp_proxy terminal filter: it connects each
// downstream connection to a host of a cluster and moves bytes both ways,
// with half-close, idle and duration limits, and backpressure. Plain TCP
// connections whose observers can be driven by callbacks go to the server's
// epoll event loops (proxy/ioloop, from the build environment), and Serve
// then returns at once: the connection is finished from the flow's OnDone
// callback (filters.Session.Detach), so no goroutine waits on an idle
// connection; the others, and bulk transfers without observers (spliced by
// the kernel), use a goroutine per direction (pipe.go).
package tcpproxy

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"

	"github.com/cespare/xxhash/v2"

	"github.com/sluice-proxy/sluice/cluster"
	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/proxy/ioloop"
)

// Name is the filter's config key.
const Name = "tcp_proxy"

func init() {
	filters.Register(filters.Typed(Name, filters.Terminal, NewConfig, New))
}

// Proxy is a built tcp_proxy filter; one per filter chain.
type Proxy struct {
	cfg      *Config
	stats    *Stats
	clusters *cluster.Manager
	loops    *ioloop.Group // nil: a goroutine per direction
	// weighted holds the cumulative weights of WeightedClusters.
	weighted []weightedCluster
	total    uint32
}

type weightedCluster struct {
	name string
	cum  uint32
}

// New builds a tcp_proxy from a validated config.
func New(cfg *Config, env *filters.Env) (*Proxy, error) {
	p := &Proxy{cfg: cfg, stats: newStats(env.Stats, cfg.StatPrefix), clusters: env.Clusters, loops: env.Loops}
	if cfg.WeightedClusters != nil {
		for _, wc := range cfg.WeightedClusters.Clusters {
			p.total += wc.Weight
			p.weighted = append(p.weighted, weightedCluster{wc.Name, p.total})
		}
	}
	return p, nil
}

// clusterName chooses the cluster for one connection: an observer's route
// first, then the weighted split, then the configured cluster.
func (p *Proxy) clusterName(s *filters.Session) string {
	if r := s.Route(); r != "" {
		return r
	}
	if p.total > 0 {
		n := rand.Uint32N(p.total)
		for _, wc := range p.weighted {
			if n < wc.cum {
				return wc.name
			}
		}
	}
	return p.cfg.Cluster
}

// hashKey returns the hash for hash balancers from the hash policy.
func (p *Proxy) hashKey(s *filters.Session) (uint64, bool) {
	for _, hp := range p.cfg.HashPolicy {
		if hp.SourceIP != nil && s.Remote.IsValid() {
			return xxhash.Sum64String(s.Remote.Addr().String()), true
		}
	}
	return 0, false
}

// Serve connects c to an upstream host and pipes bytes until both sides are
// done, a limit fires or ctx is cancelled.
func (p *Proxy) Serve(ctx context.Context, s *filters.Session, c filters.Conn) {
	p.stats.CxTotal.Inc()
	name := p.clusterName(s)
	cl := p.clusters.Get(name)
	if cl == nil {
		p.stats.CxNoRoute.Inc()
		s.Log.Warn("tcp_proxy: no such cluster", "cluster", name)
		s.UpdateAccess(func(a *filters.AccessRecord) { a.Cluster, a.TerminationReason = name, "no_route" })
		return
	}
	s.UpdateAccess(func(a *filters.AccessRecord) { a.Cluster = name })
	dctx := ctx
	if cl.Config().UpstreamProxyProtocol != nil {
		dctx = cluster.WithProxySource(ctx, proxySource(s))
	}
	up, err := p.connect(dctx, s, cl)
	if err != nil {
		reason := "upstream_connect_failed"
		switch {
		case errors.Is(err, cluster.ErrNoHealthyHost):
			reason = "no_healthy_upstream"
		case errors.Is(err, cluster.ErrOverflow):
			reason = "upstream_overflow"
		}
		s.Log.Info("tcp_proxy: upstream connect failed", "cluster", name, "err", err)
		s.UpdateAccess(func(a *filters.AccessRecord) { a.TerminationReason = reason })
		return
	}
	// An observer may speak to the upstream first (postgres_proxy's
	// upstream_ssl); the wrapped conn then carries the bytes.
	wrapped, err := s.WrapUpstream(ctx, up.Conn)
	if err != nil {
		up.Close()
		s.Log.Info("tcp_proxy: preparing the upstream connection failed", "cluster", name, "err", err)
		s.UpdateAccess(func(a *filters.AccessRecord) { a.TerminationReason = "upstream_connect_failed" })
		return
	}
	up.Conn = wrapped
	s.UpdateAccess(func(a *filters.AccessRecord) {
		a.UpstreamHost = up.Host.Address()
		a.UpstreamLocal = up.LocalAddr().String()
	})
	pp := &pipe{proxy: p, s: s, down: c, up: up}
	pp.run(ctx)
}

// connect tries up to max_connect_attempts hosts.
func (p *Proxy) connect(ctx context.Context, s *filters.Session, cl *cluster.Cluster) (*cluster.UpstreamConn, error) {
	hash, hasHash := p.hashKey(s)
	var err error
	for i := 0; i < p.cfg.MaxConnectAttempts; i++ {
		var up *cluster.UpstreamConn
		up, err = cl.Connect(cluster.WithDownstreamSNI(ctx, s.SNI), hash, hasHash)
		if err == nil {
			return up, nil
		}
		if errors.Is(err, cluster.ErrNoHealthyHost) || errors.Is(err, cluster.ErrOverflow) || ctx.Err() != nil {
			return nil, err
		}
	}
	if p.cfg.MaxConnectAttempts > 1 {
		cl.Stats().CxConnectAttemptsExcd.Inc()
	}
	return nil, fmt.Errorf("after %d attempts: %w", p.cfg.MaxConnectAttempts, err)
}

var (
	_ filters.TerminalFilter = (*Proxy)(nil)
	_ net.Conn               = filters.Conn(nil)
)

// proxySource is what the cluster's upstream PROXY header says about the
// session: its client (a downstream PROXY header's source, when there was
// one), its local address and the TLVs kept for passing through.
func proxySource(s *filters.Session) cluster.ProxySource {
	ps := cluster.ProxySource{Src: s.Remote, Dst: s.Local}
	for _, t := range s.ProxyTLVs {
		ps.TLVs = append(ps.TLVs, cluster.ProxyTLV{Type: t.Type, Value: t.Value})
	}
	return ps
}
