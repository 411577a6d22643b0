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
// write cannot take goes to the client's own writer goroutine.
//
// On Linux the server's event loops do most of that (loop.go, loopup.go):
// a plain TCP client's socket and each upstream socket are adopted by a
// loop at their first idle moment; the loop reads and routes the ready
// clients' commands, writes each upstream connection's batch once at the
// end of its round, and reads replies and writes them to their clients,
// so an ordinary request never waits for a goroutine, as in twemproxy.
// What must not run on a loop's thread (dials, full queues, MULTI,
// blocking and pub/sub commands, values over the buffer limits, errors)
// goes back to the goroutines above, parked meanwhile, and the socket
// returns to a loop at its next idle moment.
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
	"github.com/sluice-proxy/sluice/proxy/ioloop"
	"github.com/sluice-proxy/sluice/tracing"
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
	guard  *guard.Guard  // contains panics of upstream and discovery goroutines
	loops  *ioloop.Group // the server's event loops, which serve plain TCP clients (loop.go); nil: none
	router *router
	pubsub *route // SUBSCRIBE / PUBLISH target; nil if none
	// limit is the listener's per_connection_buffer_limit_bytes: the most
	// held for one client (read buffer; reply bytes before the reader
	// stops); a larger command is streamed or refused (large.go).
	limit int
	// spans are the command spans (tracing.go); nil when off.
	spans *tracing.Statements

	nextID atomic.Uint64

	poolMu sync.Mutex
	pools  atomic.Pointer[map[poolKey]*hostPool]
	// unsub cancels the host-event subscriptions that prune pools.
	unsub []func()

	topoMu sync.Mutex
	topos  []*topology
}

// New builds a redis_proxy from a validated config. Clusters are looked
// up by name on first use (the loader checked that they exist).
func New(cfg *Config, env *filters.Env) (*Proxy, error) {
	p := &Proxy{cfg: cfg, stats: newStats(env.Stats, cfg.StatPrefix), log: env.Log, guard: env.Guard, loops: env.Loops, limit: env.PerConnectionBufferLimit()}
	if p.log == nil {
		p.log = slog.Default()
	}
	empty := map[poolKey]*hostPool{}
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
	spans, err := tracing.NewStatements(cfg.Tracing, "redis", tracing.Deps{Clusters: env.Clusters, Log: p.log})
	if err != nil {
		return nil, fmt.Errorf("tracing: %w", err)
	}
	p.spans = spans
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
	stop := context.AfterFunc(ctx, cl.closeDown)
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
		return st.topo.pick(redis.HashSlot(key), read, p.cfg.Settings.ReadPolicy)
	}
	k := key
	if p.cfg.Settings.EnableHashtagging {
		k = redis.HashTag(key)
	}
	h := st.cluster.Pick(lb.MurmurHash2(k), true)
	if h == nil {
		return nil, nil
	}
	return p.hostPool(st.cluster, rt.auth, h, false), h
}

// pickAny chooses an upstream for a keyless command on route rt: the first
// healthy host (pub/sub meets there).
func (p *Proxy) pickAny(rt *route) (*hostPool, *cluster.Host) {
	st := rt.state()
	if st.err != nil {
		return nil, nil
	}
	if st.topo != nil {
		return st.topo.pick(0, false, "master")
	}
	for _, h := range st.cluster.Hosts() {
		if h.Healthy() {
			return p.hostPool(st.cluster, rt.auth, h, false), h
		}
	}
	return nil, nil
}

// poolKey names a pool: a host, and whether its connections send READONLY
// (a Redis Cluster replica serving reads).
type poolKey struct {
	h        *cluster.Host
	readonly bool
}

// hostPool returns the shared pool of a host, dialed through the cluster
// (breakers, upstream_cx_* stats, outlier detection). The pools of a host
// close when it leaves the cluster (dropHost).
func (p *Proxy) hostPool(cl *cluster.Cluster, auth *Credentials, h *cluster.Host, readonly bool) *hostPool {
	k := poolKey{h, readonly}
	if hp := (*p.pools.Load())[k]; hp != nil {
		return hp
	}
	p.poolMu.Lock()
	defer p.poolMu.Unlock()
	old := *p.pools.Load()
	if hp := old[k]; hp != nil {
		return hp
	}
	hp := &hostPool{
		addr: h.Address(), host: h, auth: auth, proxy: p, readonly: readonly,
		timeout: cl.Config().ConnectTimeout.D(),
		limit:   upLimit(cl),
		dial: func(ctx context.Context) (net.Conn, error) {
			uc, err := cl.Dial(ctx, h)
			if err != nil {
				return nil, err
			}
			return uc, nil
		},
	}
	hp.init(p.cfg.Settings.MaxUpstreamConnectionsPerHost)
	nw := make(map[poolKey]*hostPool, len(old)+1)
	for k, v := range old {
		nw[k] = v
	}
	nw[k] = hp
	p.pools.Store(&nw)
	return hp
}

// dropHost closes and forgets the pools of a host that left its cluster,
// so that pools do not outlive their hosts (requests in flight on them
// fail with the upstream-failure reply, as on a closed connection).
func (p *Proxy) dropHost(h *cluster.Host) {
	p.poolMu.Lock()
	old := *p.pools.Load()
	var gone []*hostPool
	nw := make(map[poolKey]*hostPool, len(old))
	for k, v := range old {
		if k.h == h {
			gone = append(gone, v)
			continue
		}
		nw[k] = v
	}
	if len(gone) > 0 {
		p.pools.Store(&nw)
	}
	p.poolMu.Unlock()
	for _, hp := range gone {
		hp.closeAll()
	}
}

// poolCount is how many host pools p holds (tests).
func (p *Proxy) poolCount() int { return len(*p.pools.Load()) }

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
	defer p.spans.Close()
	for _, hp := range *p.pools.Load() {
		hp.closeAll()
	}
	p.topoMu.Lock()
	topos, unsub := p.topos, p.unsub
	p.unsub = nil
	p.topoMu.Unlock()
	for _, cancel := range unsub {
		cancel()
	}
	for _, t := range topos {
		t.closeAll()
	}
	return nil
}

var _ io.Closer = (*Proxy)(nil)
