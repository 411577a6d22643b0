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
	"github.com/sluice-proxy/sluice/stats"
)

// Manager holds the running clusters. Apply swaps in a new set; clusters that
// stay keep their identity (and stats), so filters built for the old config
// and connections already open carry on.
type Manager struct {
	root *stats.Scope
	log  *slog.Logger

	mu       sync.RWMutex
	clusters map[string]*Cluster

	added, modified, removed *stats.Counter
	active                   *stats.Gauge

	// Dialer, when set before the first Apply, replaces the net.Dialer used
	// for upstream connects (tests).
	Dialer func(ctx context.Context, network, addr string) (net.Conn, error)
	// Resolver resolves strict_dns names; net.DefaultResolver when nil.
	Resolver *net.Resolver
}

// NewManager returns an empty manager whose stats go under root.
func NewManager(root *stats.Scope, log *slog.Logger) *Manager {
	cm := root.Sub("cluster_manager")
	return &Manager{
		root: root, log: log, clusters: map[string]*Cluster{},
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
// ones stop discovery (connections already open through them carry on).
func (m *Manager) Apply(cfgs []config.Cluster) {
	m.mu.Lock()
	defer m.mu.Unlock()
	want := make(map[string]bool, len(cfgs))
	for i := range cfgs {
		cfg := cfgs[i]
		want[cfg.Name] = true
		c, ok := m.clusters[cfg.Name]
		if !ok {
			c = m.newCluster(&cfg)
			m.clusters[cfg.Name] = c
			m.added.Inc()
			c.start()
			continue
		}
		if reflect.DeepEqual(*c.cfg.Load(), cfg) {
			continue
		}
		m.modified.Inc()
		c.stopDiscovery()
		c.cfg.Store(&cfg)
		c.start()
	}
	for name, c := range m.clusters {
		if !want[name] {
			c.stopDiscovery()
			delete(m.clusters, name)
			m.removed.Inc()
		}
	}
	m.active.Set(int64(len(m.clusters)))
}

// Close stops every cluster's background work.
func (m *Manager) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range m.clusters {
		c.stopDiscovery()
	}
}

func (m *Manager) newCluster(cfg *config.Cluster) *Cluster {
	c := &Cluster{name: cfg.Name, stats: newStats(m.root, cfg.Name), log: m.log.With("cluster", cfg.Name)}
	c.cfg.Store(cfg)
	c.dialer = m.Dialer
	if c.dialer == nil {
		d := &net.Dialer{KeepAlive: 30 * time.Second}
		c.dialer = d.DialContext
	}
	res := m.Resolver
	if res == nil {
		res = net.DefaultResolver
	}
	c.resolver = res
	c.snap.Store(&snapshot{picker: &rrPicker{}})
	return c
}

// start begins discovery for the current config: static and logical_dns hosts
// are set at once; strict_dns resolves once synchronously (bounded by the
// connect timeout) and then on every dns_refresh_rate.
func (c *Cluster) start() {
	cfg := c.cfg.Load()
	ctx, cancel := context.WithCancel(context.Background())
	c.mu.Lock()
	c.stop, c.done = cancel, make(chan struct{})
	done := c.done
	c.mu.Unlock()
	switch cfg.Type {
	case "strict_dns":
		c.resolveOnce(ctx, cfg)
		go c.refreshLoop(ctx, cfg, done)
	default:
		c.setHosts(cfg.Endpoints)
		close(done)
	}
}

// stopDiscovery stops the background work started by start and waits for it.
func (c *Cluster) stopDiscovery() {
	c.mu.Lock()
	stop, done := c.stop, c.done
	c.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
}
