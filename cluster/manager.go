package cluster

import (
	"context"
	"log/slog"
	"net"
	"reflect"
	"sort"
	"sync"
	"time"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/internal/guard"
	"github.com/sluice-proxy/sluice/stats"
	"github.com/sluice-proxy/sluice/tlsctx"
)

// Manager holds the running clusters. Apply swaps in a new set; clusters that
// stay keep their identity (and stats), so filters built for the old config
// and connections already open carry on.
type Manager struct {
	root  *stats.Scope
	log   *slog.Logger
	guard *guard.Guard // server.contained_panics, for health probes

	mu       sync.RWMutex
	clusters map[string]*Cluster
	prepared map[string]*upstreamTLS // PrepareTLS's contexts for the next Apply

	added, modified, removed *stats.Counter
	active                   *stats.Gauge

	// Dialer, when set before the first Apply, replaces the net.Dialer used
	// for upstream connects and health checks (tests).
	Dialer func(ctx context.Context, network, addr string) (net.Conn, error)
	// Secrets serves SDS secrets from the control plane (ads) to upstream
	// TLS contexts; set it before the first Apply. Nil refuses them.
	Secrets tlsctx.SecretSource
	// Resolver resolves strict_dns and logical_dns names; net.DefaultResolver
	// when nil. Set it before the first Apply.
	Resolver Resolver
}

// Resolver looks a name up; *net.Resolver is one.
type Resolver interface {
	LookupHost(ctx context.Context, host string) ([]string, error)
}

// NewManager returns an empty manager whose stats go under root.
func NewManager(root *stats.Scope, log *slog.Logger) *Manager {
	cm := root.Sub("cluster_manager")
	return &Manager{
		root: root, log: log, clusters: map[string]*Cluster{},
		guard: &guard.Guard{Log: log, Panics: root.Sub("server").Counter("contained_panics")},
		added: cm.Counter("cluster_added"), modified: cm.Counter("cluster_modified"),
		removed: cm.Counter("cluster_removed"), active: cm.Gauge("active_clusters"),
	}
}

// Get returns the named cluster, or nil.
func (m *Manager) Get(name string) *Cluster {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.clusters[name]
}

// All returns the clusters sorted by name.
func (m *Manager) All() []*Cluster {
	m.mu.RLock()
	out := make([]*Cluster, 0, len(m.clusters))
	for _, c := range m.clusters {
		out = append(out, c)
	}
	m.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// Apply makes the running clusters match cfgs (already validated): new ones
// start, changed ones get their new settings and endpoints in place, removed
// ones stop their background work (connections already open carry on).
// Like Envoy's cluster warming, Apply waits (at most the longest check
// timeout) for the first health checks of new clusters, so that traffic
// does not start on hosts that are down.
func (m *Manager) Apply(cfgs []config.Cluster) {
	var warming []warm
	m.mu.Lock()
	want := make(map[string]bool, len(cfgs))
	for i := range cfgs {
		cfg := cfgs[i]
		want[cfg.Name] = true
		c, ok := m.clusters[cfg.Name]
		if !ok {
			c = m.newCluster(&cfg)
			m.setTLS(c, &cfg)
			m.clusters[cfg.Name] = c
			m.added.Inc()
			warming = append(warming, warm{c.start(), probeTimeout(cfg.HealthChecks)})
			continue
		}
		if reflect.DeepEqual(*c.cfg.Load(), cfg) {
			continue
		}
		m.modified.Inc()
		c.stopBackground()
		m.setTLS(c, &cfg)
		c.cfg.Store(&cfg)
		c.start()
	}
	for name, c := range m.clusters {
		if !want[name] {
			c.stopBackground()
			c.retire()
			c.closeTLS()
			delete(m.clusters, name)
			m.removed.Inc()
		}
	}
	m.active.Set(int64(len(m.clusters)))
	m.dropPrepared()
	m.mu.Unlock()
	for _, w := range warming {
		w.wait()
	}
}

// warm is a new cluster's first health-check round.
type warm struct {
	ready   []<-chan struct{}
	timeout time.Duration
}

func (w warm) wait() {
	t := time.NewTimer(w.timeout)
	defer t.Stop()
	for _, r := range w.ready {
		select {
		case <-r:
		case <-t.C:
			return
		}
	}
}

// Close stops every cluster's background work and waits for it.
func (m *Manager) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range m.clusters {
		c.stopBackground()
		c.retire()
		c.closeTLS()
	}
	m.dropPrepared()
}

func (m *Manager) newCluster(cfg *config.Cluster) *Cluster {
	st := newStats(m.root, cfg.Name)
	c := &Cluster{name: cfg.Name, stats: st, log: m.log.With("cluster", cfg.Name), guard: m.guard, retired: make(chan struct{}), redisKick: make(chan struct{}, 1)}
	c.cfg.Store(cfg)
	c.root = m.root
	c.dialer = m.Dialer
	if c.dialer == nil {
		d := &net.Dialer{KeepAlive: 30 * time.Second}
		c.dialer = d.DialContext
	}
	c.resolver = m.Resolver
	if c.resolver == nil {
		c.resolver = net.DefaultResolver
	}
	for i, p := range []Priority{PriorityDefault, PriorityHigh} {
		c.breakers[i] = newBreakers(st.Scope, breakerScopeName(p))
	}
	c.snap.Store(&snapshot{levels: []level{{picker: noPicker{}}}, load: []uint32{100}})
	return c
}

// start begins the background work of the current config: health checks,
// outlier sweeps and discovery. Static and logical_dns hosts are set at once;
// strict_dns resolves once synchronously (bounded by the connect timeout)
// and then every dns_refresh_rate; redis_cluster reads CLUSTER SLOTS the
// same way, then every cluster_refresh_rate (rediscluster.go). It returns the first-check channels of
// the health checks.
func (c *Cluster) start() []<-chan struct{} {
	cfg := c.cfg.Load()
	ctx, cancel := context.WithCancel(context.Background())
	c.applyBreakers(cfg)
	var hc *healthChecker
	if len(cfg.HealthChecks) > 0 {
		hc = newHealthChecker(c, cfg.HealthChecks)
	}
	c.mu.Lock()
	c.stop, c.hc = cancel, hc
	hosts := c.hosts
	c.mu.Unlock()
	if hc == nil {
		c.stats.hc.healthy.Set(0)
		for _, h := range hosts {
			h.SetFlag(FailedActiveHC, false)
		}
	}
	if od := cfg.OutlierDetection; od != nil {
		d := &detector{c: c, cfg: od, now: time.Now}
		c.outlier.Store(d)
		c.bg.Add(1)
		go d.run(ctx, &c.bg)
	} else if c.outlier.Swap(nil) != nil {
		c.clearOutlier()
	}
	switch cfg.Type {
	case "strict_dns":
		c.resolveOnce(ctx, cfg)
		c.bg.Add(1)
		go c.refreshLoop(ctx, cfg, c.resolveOnce)
	case "logical_dns":
		c.setHosts(cfg.Endpoints)
		c.resolveLogical(ctx, cfg)
		c.bg.Add(1)
		go c.refreshLoop(ctx, cfg, c.resolveLogical)
	case "dynamic_forward_proxy":
		c.startDNSCache(ctx, cfg)
	case "redis_cluster":
		c.discoverRedis(ctx, cfg)
		c.bg.Add(1)
		go c.redisLoop(ctx, cfg)
	default:
		c.setHosts(cfg.Endpoints)
	}
	if hc == nil {
		return nil
	}
	hc.sync(c.Hosts()) // sessions for hosts set before hc existed
	return hc.readyAll()
}

// stopBackground stops the work started by start and waits for it.
func (c *Cluster) stopBackground() {
	c.mu.Lock()
	stop := c.stop
	c.stop = nil
	c.mu.Unlock()
	if stop != nil {
		stop()
		c.bg.Wait()
	}
	c.mu.Lock()
	hc := c.hc
	c.hc = nil
	c.mu.Unlock()
	if hc != nil {
		hc.stop()
	}
}
