// Package redis is the redis_proxy terminal filter: it parses pipelined RESP
// commands, routes each by key prefix to a cluster and by key hash
// (ring_hash or maglev over Envoy's MurmurHash2 of the key or its {tag}) or
// Redis Cluster slot to a host, splits multi-key commands per shard and
// merges the replies in order, and multiplexes all clients over a few
// pipelined connections per host.
//
// Per client: one goroutine reads and dispatches commands, appending a
// pending reply slot per command to the client's ordered queue (bounded:
// the reader stops at max_pending_per_client, or when the request and reply
// bytes held for the client exceed per_connection_buffer_limit_bytes; a
// larger command or reply is streamed, large.go and streamreply.go). Per
// upstream connection: one
// writer sends everything queued since its last write in one write, after
// yielding once so that the client readers woken with it queue theirs
// first; one reader frames replies with codec/redis, completes slots in
// FIFO order, and after each read writes each touched client's ready
// replies itself, in one non-blocking write per client. Only what that
// write cannot take goes to the client's own writer goroutine. A lone
// request thus costs two goroutine wake-ups, like one event-loop round.
//
// Beyond Envoy: SUBSCRIBE-family and blocking commands pin the client to a
// dedicated upstream connection (pub/sub until the subscription count is
// back to 0); WAIT runs on the client's dedicated connections to the hosts
// it wrote to; MULTI/EXEC is queued by the proxy and sent as one contiguous
// batch when every key maps to one shard.
//
// Everything on the wire goes through codec/redis; keys hash with
// cluster/lb's MurmurHash2, the one the balancers use.
package redis

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluice-proxy/sluice/cluster"
	"github.com/sluice-proxy/sluice/cluster/lb"
	"github.com/sluice-proxy/sluice/codec/redis"
	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/internal/guard"
)

// Name is the filter's config key.
const Name = "redis_proxy"

func init() {
	filters.Register(filters.Typed(Name, filters.Terminal, NewConfig, New))
}

// Proxy is a built redis_proxy filter; one per filter chain. It is safe
// for concurrent use by many connections.
type Proxy struct {
	cfg    *Config
	stats  *Stats
	log    *slog.Logger
	guard  *guard.Guard // contains panics of upstream and discovery goroutines
	router *router
	pubsub *route // SUBSCRIBE / PUBLISH target; nil if none
	// limit is the listener's per_connection_buffer_limit_bytes: the most
	// held for one client (read buffer; reply bytes before the reader
	// stops); a larger command is streamed or refused (large.go).
	limit int

	nextID atomic.Uint64

	poolMu sync.Mutex
	pools  atomic.Pointer[map[*cluster.Host]*hostPool]

	topoMu sync.Mutex
	topos  []*topology
}

// New builds a redis_proxy from a validated config. Clusters are looked
// up by name on first use (the loader checked that they exist).
func New(cfg *Config, env *filters.Env) (*Proxy, error) {
	p := &Proxy{cfg: cfg, stats: newStats(env.Stats, cfg.StatPrefix), log: env.Log, guard: env.Guard, limit: env.PerConnectionBufferLimit()}
	if p.log == nil {
		p.log = slog.Default()
	}
	empty := map[*cluster.Host]*hostPool{}
	p.pools.Store(&empty)
	ups := map[string]*upstream{}
	up := func(name string) *upstream {
		if u := ups[name]; u != nil {
			return u
		}
		u := &upstream{name: name, p: p, mgr: env.Clusters}
		if cr, ok := cfg.UpstreamAuth[name]; ok {
			u.auth = &cr
		}
		ups[name] = u
		return u
	}
	mk := func(r *Route) *route {
		rt := &route{prefix: []byte(r.Prefix), removePrefix: r.RemovePrefix, upstream: up(r.Cluster)}
		for _, m := range r.RequestMirrorPolicy {
			rt.mirrors = append(rt.mirrors, mirror{rt: &route{upstream: up(m.Cluster)}, writesOnly: m.ExcludeReadCommands})
		}
		return rt
	}
	var routes []*route
	for i := range cfg.PrefixRoutes.Routes {
		routes = append(routes, mk(&cfg.PrefixRoutes.Routes[i]))
	}
	var catchAll *route
	if cfg.PrefixRoutes.CatchAllRoute != nil {
		catchAll = mk(cfg.PrefixRoutes.CatchAllRoute)
	}
	p.router = newRouter(routes, catchAll, cfg.PrefixRoutes.CaseInsensitive)
	switch {
	case cfg.PubsubRoute != "":
		p.pubsub = &route{upstream: up(cfg.PubsubRoute)}
	case catchAll != nil:
		p.pubsub = catchAll
	}
	return p, nil
}

// Serve proxies one client connection until it closes, sends QUIT, breaks
// the protocol, or ctx is cancelled.
func (p *Proxy) Serve(ctx context.Context, s *filters.Session, c filters.Conn) {
	p.stats.CxTotal.Inc()
	p.stats.CxActive.Inc()
	defer p.stats.CxActive.Dec()
	cl := newClient(p, s, c)
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	cl.run()
}

// pick chooses the upstream of key on route rt: by slot on a Redis Cluster,
// else by the cluster's balancer with the key's hash. It returns nil when no
// host is available.
func (p *Proxy) pick(rt *route, key []byte, read bool) (*hostPool, *cluster.Host) {
	st := rt.state()
	if st.err != nil {
		return nil, nil
	}
	if st.topo != nil {
		return st.topo.pick(redis.HashSlot(key), read, p.cfg.Settings.ReadPolicy), nil
	}
	k := key
	if p.cfg.Settings.EnableHashtagging {
		k = redis.HashTag(key)
	}
	h := st.cluster.Pick(lb.MurmurHash2(k), true)
	if h == nil {
		return nil, nil
	}
	return p.hostPool(st.cluster, rt.auth, h), h
}

// pickAny chooses an upstream for a keyless command on route rt: the first
// healthy host (pub/sub meets there).
func (p *Proxy) pickAny(rt *route) (*hostPool, *cluster.Host) {
	st := rt.state()
	if st.err != nil {
		return nil, nil
	}
	if st.topo != nil {
		return st.topo.pick(0, false, "master"), nil
	}
	for _, h := range st.cluster.Hosts() {
		if h.Healthy() {
			return p.hostPool(st.cluster, rt.auth, h), h
		}
	}
	return nil, nil
}

// hostPool returns the shared pool of a standalone host.
func (p *Proxy) hostPool(cl *cluster.Cluster, auth *Credentials, h *cluster.Host) *hostPool {
	if hp := (*p.pools.Load())[h]; hp != nil {
		return hp
	}
	p.poolMu.Lock()
	defer p.poolMu.Unlock()
	old := *p.pools.Load()
	if hp := old[h]; hp != nil {
		return hp
	}
	hp := &hostPool{
		addr: h.Address(), host: h, auth: auth, proxy: p,
		timeout: cl.Config().ConnectTimeout.D(),
		limit:   upLimit(cl),
		conns:   make([]atomic.Pointer[upConn], p.cfg.Settings.MaxUpstreamConnectionsPerHost),
		dial: func(ctx context.Context) (net.Conn, error) {
			uc, err := cl.Dial(ctx, h)
			if err != nil {
				return nil, err
			}
			return uc, nil
		},
	}
	nw := make(map[*cluster.Host]*hostPool, len(old)+1)
	for k, v := range old {
		nw[k] = v
	}
	nw[h] = hp
	p.pools.Store(&nw)
	return hp
}

// upLimit is the cluster's per_connection_buffer_limit_bytes: a reply
// larger than it is streamed to its client, not held.
func upLimit(cl *cluster.Cluster) int {
	if n := int(cl.Config().PerConnectionBufferLimitBytes); n > 0 {
		return n
	}
	return config.DefaultBufferLimit
}

// dialAddr dials a Redis Cluster node found by discovery.
func dialAddr(addr string, timeout time.Duration) func(ctx context.Context) (net.Conn, error) {
	return func(ctx context.Context) (net.Conn, error) {
		d := net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
		nc, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("redis: connect to %s: %w", addr, err)
		}
		return nc, nil
	}
}

var _ filters.TerminalFilter = (*Proxy)(nil)

// Close closes the filter's upstream connections (requests in flight fail).
// The server calls it when a reload or shutdown retired the filter's chain
// and the chain's last connection has ended; idle connections of a filter
// also close themselves after two idle minutes.
func (p *Proxy) Close() error {
	for _, hp := range *p.pools.Load() {
		hp.closeAll()
	}
	p.topoMu.Lock()
	topos := p.topos
	p.topoMu.Unlock()
	for _, t := range topos {
		t.mu.Lock()
		for _, hp := range t.pools {
			hp.closeAll()
		}
		t.mu.Unlock()
	}
	return nil
}

var _ io.Closer = (*Proxy)(nil)
