// Package thrift is the thrift_proxy terminal (Envoy's
// envoy.filters.network.thrift_proxy): it decodes each Thrift call of a
// client (codec/thrift), routes it by method or service name and header
// transport headers, and sends it over a multiplexed pool of upstream
// connections (cluster/muxpool) with a sequence id of that connection,
// re-encoded in the cluster's transport and protocol; the reply goes back
// in the client's own, with the client's sequence id, in request order.
package thrift

import (
	"bufio"
	"log/slog"
	"sync"
	"time"

	"github.com/sluice-proxy/sluice/cluster"
	"github.com/sluice-proxy/sluice/cluster/muxpool"
	codec "github.com/sluice-proxy/sluice/codec/thrift"
	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/internal/guard"
)

// Name is the filter's config key.
const Name = "thrift_proxy"

func init() { filters.Register(filters.Typed(Name, filters.Terminal, NewConfig, New)) }

// Proxy is a built thrift_proxy; one per filter chain, shared by its
// connections.
type Proxy struct {
	cfg       *Config
	stats     *Stats
	cstats    clusterStatsCache
	routes    []*route
	transport codec.Transport
	protocol  codec.Protocol
	limit     int
	timeout   time.Duration
	closeOnUp bool
	clusters  *cluster.Manager
	log       *slog.Logger
	guard     *guard.Guard

	mu     sync.Mutex
	pools  map[*cluster.Cluster]*upstream
	closed bool
}

// upstream is a cluster's pool and the transport and protocol its
// connections speak, fixed when the pool is made (a reload that changes the
// cluster's options builds a new filter, with new pools).
type upstream struct {
	pool   *muxpool.Pool[*codec.Message]
	target codec.Target
}

// New builds the filter.
func New(cfg *Config, env *filters.Env) (*Proxy, error) {
	t, _ := codec.ParseTransport(cfg.Transport)
	p, _ := codec.ParseProtocol(cfg.Protocol)
	closeOnUp := true
	for _, f := range cfg.ThriftFilters {
		if f.TypedConfig != nil && f.TypedConfig.CloseDownstreamOnUpstreamError != nil {
			closeOnUp = *f.TypedConfig.CloseDownstreamOnUpstreamError
		}
	}
	log := env.Log
	if log == nil {
		log = slog.Default()
	}
	return &Proxy{
		cfg: cfg, stats: newStats(env.Stats, cfg.StatPrefix), routes: compileRoutes(cfg.RouteConfig.Routes),
		transport: t, protocol: p, limit: env.PerConnectionBufferLimit(), timeout: cfg.RequestTimeout.D(),
		closeOnUp: closeOnUp, clusters: env.Clusters, log: log, guard: env.Guard,
		pools: map[*cluster.Cluster]*upstream{},
	}, nil
}

// pool returns the shared pool of cluster c, made on first use.
func (p *Proxy) pool(c *cluster.Cluster) (*upstream, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, false
	}
	if u := p.pools[c]; u != nil {
		return u, true
	}
	target := upstreamTarget(c)
	// Replies come as the requests went: the cluster's options, else the
	// downstream settings (lax binary cannot be detected).
	up := target
	if up.Transport == codec.TransportAuto {
		up.Transport = p.transport
	}
	if up.Protocol == codec.ProtocolAuto {
		up.Protocol = p.protocol
	}
	max := int(c.Config().PerConnectionBufferLimitBytes)
	if max <= 0 {
		max = p.limit
	}
	read := func(br *bufio.Reader) func() (int32, *codec.Message, error) {
		d := codec.NewDecoder(br, up.Transport, up.Protocol, max)
		// Under auto, one connection carries the calls of clients that may
		// speak differently (one after the other): detect every reply.
		redetect := up.Transport == codec.TransportAuto || up.Protocol == codec.ProtocolAuto
		return func() (int32, *codec.Message, error) {
			if redetect {
				d = codec.NewDecoder(br, up.Transport, up.Protocol, max)
			}
			m, err := d.Next()
			if err != nil {
				return 0, nil, err
			}
			return m.SeqID, m, nil
		}
	}
	g := p.guard
	if g == nil {
		g = &guard.Guard{Log: p.log}
	}
	pl := muxpool.New(c, read, muxpool.Config{MaxConnsPerHost: p.cfg.MaxUpstreamConnectionsPerHost, MaxPerConn: p.cfg.MaxRequestsPerUpstreamConnection}, g)
	u := &upstream{pool: pl, target: target}
	p.pools[c] = u
	return u, true
}

// Close closes the upstream pools; the filter's chain set has retired.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	pools := p.pools
	p.pools = nil
	p.mu.Unlock()
	for _, u := range pools {
		u.pool.Close()
	}
	return nil
}

// upstreamTarget is the cluster's ThriftProtocolOptions (auto: as the
// client speaks).
func upstreamTarget(c *cluster.Cluster) codec.Target {
	var t codec.Target
	if o := c.Config().ThriftProtocolOptions; o != nil {
		t.Transport, _ = codec.ParseTransport(o.Transport)
		t.Protocol, _ = codec.ParseProtocol(o.Protocol)
	}
	return t
}

var (
	_ filters.TerminalFilter = (*Proxy)(nil)
	_ filters.Closer         = (*Proxy)(nil)
)
