// Package cluster owns everything upstream of a terminal filter: the cluster
// manager, discovery (static, strict_dns, logical_dns), hosts and their health
// flags, load-balancing snapshots, active health checks, outlier detection,
// circuit breakers and upstream connects with Envoy's stats.
//
// Control-plane work (discovery, health checks, outlier sweeps, reloads)
// builds a new immutable snapshot of the pickable hosts and publishes it with
// one atomic store; the data path (Pick, Connect) only loads it.
package cluster

import (
	"context"
	"errors"

	"log/slog"
	"net"
	"sync"
	"sync/atomic"

	"github.com/sluice-proxy/sluice/cluster/lb"
	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/internal/guard"
	"github.com/sluice-proxy/sluice/stats"
)

// ErrNoHealthyHost is returned when a cluster has no host to pick.
var ErrNoHealthyHost = errors.New("no healthy upstream host")

// Picker chooses a host index from an immutable snapshot; it never blocks and
// never allocates. hasHash=false means the caller has no hash key.
type Picker interface {
	Pick(hash uint64, hasHash bool) int
}

// snapshot is what Pick reads: published atomically, never mutated.
type snapshot struct {
	all     []*Host
	healthy []*Host
	// levels are the priority levels (priority.go); load[i] is the
	// cumulative percent of picks that go to levels 0..i.
	levels []level
	load   []uint32
}

// Cluster is one upstream cluster. Its config and hosts change on reload and
// discovery; terminal filters keep a *Cluster and always see the latest.
type Cluster struct {
	name  string
	stats *Stats
	log   *slog.Logger
	guard *guard.Guard

	cfg  atomic.Pointer[config.Cluster]
	snap atomic.Pointer[snapshot]
	tls  atomic.Pointer[upstreamTLS] // nil: plain TCP

	mu       sync.Mutex // guards the fields below; control-plane work only
	hosts    []*Host
	stop     context.CancelFunc
	bg       sync.WaitGroup // discovery and outlier sweep goroutines
	hc       *healthChecker
	resolved map[string][]config.Endpoint // strict_dns: endpoint → its addresses

	dialer   dialFunc
	resolver Resolver
	breakers [2]*Breakers
	subs     subscribers

	outlier   atomic.Pointer[detector]
	outlierMu sync.Mutex // guards every host's ejection state

	retired    chan struct{} // closed when the Manager drops the cluster
	retireOnce sync.Once
	// redis_cluster discovery (rediscluster.go).
	redisSlots atomic.Pointer[RedisSlots]
	// dynamic_forward_proxy: the DNS cache of the current config (dnscache.go).
	dfp       atomic.Pointer[dnsCache]
	root      *stats.Scope
	redisAuth atomic.Pointer[RedisAuth]
	redisKick chan struct{}
	redisTrig redisTriggers
}

// Retired is closed when a reload removes the cluster or its Manager closes:
// pools built on it (cluster/httppool) close their connections then.
func (c *Cluster) Retired() <-chan struct{} { return c.retired }

// retire closes Retired once.
func (c *Cluster) retire() { c.retireOnce.Do(func() { close(c.retired) }) }

// Name returns the cluster's name.
func (c *Cluster) Name() string { return c.name }

// Stats returns the cluster's stats handles.
func (c *Cluster) Stats() *Stats { return c.stats }

// Config returns the cluster's current config.
func (c *Cluster) Config() *config.Cluster { return c.cfg.Load() }

// Hosts returns the current hosts, draining ones included (a snapshot; do
// not modify).
func (c *Cluster) Hosts() []*Host { return c.snap.Load().all }

// setHosts replaces the host set, reusing Host values for addresses that stay,
// and publishes a new snapshot. Hosts that leave while connections to them
// are open stay, flagged PendingDynamicRemoval, until the last one closes.
func (c *Cluster) setHosts(eps []config.Endpoint) {
	checked := len(c.cfg.Load().HealthChecks) > 0
	c.mu.Lock()
	old := make(map[string]*Host, len(c.hosts))
	for _, h := range c.hosts {
		old[h.addr] = h
	}
	hosts := make([]*Host, 0, len(eps))
	seen := make(map[string]bool, len(eps))
	var events []HostEvent
	for _, e := range eps {
		if seen[e.Address] {
			continue
		}
		seen[e.Address] = true
		h := old[e.Address]
		if h == nil {
			h = newHost(c, e.Address, e.Weight)
			h.setPlacement(e)
			h.setHostname(e.Hostname)
			if checked {
				h.flags.Store(uint32(FailedActiveHC)) // until its first check
			}
		} else {
			h.weight.Store(e.Weight)
			h.setPlacement(e)
			h.setHostname(e.Hostname)
			if h.setFlagQuiet(PendingDynamicRemoval, false) {
				events = append(events, HostEvent{h, HostHealthy})
			}
		}
		hosts = append(hosts, h)
	}
	for _, h := range c.hosts {
		switch {
		case seen[h.addr]:
		case h.CxActive.Load() > 0:
			if h.setFlagQuiet(PendingDynamicRemoval, true) {
				events = append(events, HostEvent{h, HostUnhealthy})
			}
			hosts = append(hosts, h)
		default:
			events = append(events, HostEvent{h, HostRemoved})
		}
	}
	changed := len(hosts) != len(c.hosts)
	for i := 0; !changed && i < len(hosts); i++ {
		changed = hosts[i] != c.hosts[i]
	}
	c.hosts = hosts
	hc := c.hc
	c.mu.Unlock()
	if changed {
		c.stats.MembershipChange.Inc()
	}
	c.rebuild()
	if hc != nil {
		hc.sync(hosts)
	}
	for _, ev := range events {
		c.notify(ev)
	}
}

// pruneDrained drops draining hosts with no connections left.
func (c *Cluster) pruneDrained() {
	c.mu.Lock()
	var gone []*Host
	keep := c.hosts[:0:0]
	for _, h := range c.hosts {
		if h.Flags()&PendingDynamicRemoval != 0 && h.CxActive.Load() <= 0 {
			gone = append(gone, h)
			continue
		}
		keep = append(keep, h)
	}
	c.hosts = keep
	c.mu.Unlock()
	if len(gone) == 0 {
		return
	}
	c.stats.MembershipChange.Inc()
	c.rebuild()
	for _, h := range gone {
		c.notify(HostEvent{h, HostRemoved})
	}
}

// setFlagQuiet changes a flag without rebuilding or notifying; it reports
// whether the host's overall health changed.
func (h *Host) setFlagQuiet(f HealthFlag, on bool) bool {
	for {
		old := h.flags.Load()
		nw := old &^ uint32(f)
		if on {
			nw = old | uint32(f)
		}
		if nw == old || h.flags.CompareAndSwap(old, nw) {
			return (old == 0) != (nw == 0)
		}
	}
}

// rebuild publishes a new snapshot from the current hosts and their health.
func (c *Cluster) rebuild() {
	cfg := c.cfg.Load()
	c.mu.Lock()
	defer c.mu.Unlock()
	s := &snapshot{all: c.hosts}
	var maxW uint32
	var live []*Host // hosts not being removed
	for _, h := range c.hosts {
		if h.Flags()&PendingDynamicRemoval != 0 {
			continue
		}
		live = append(live, h)
		if h.Healthy() {
			s.healthy = append(s.healthy, h)
		}
		maxW = max(maxW, h.Weight())
	}
	// Priority levels, panic and locality weights: priority.go.
	s.levels, s.load = c.buildLevels(cfg, live)
	c.snap.Store(s)
	c.stats.MembershipTotal.Set(int64(len(s.all)))
	c.stats.MembershipHealthy.Set(int64(len(s.healthy)))
	c.stats.MembershipDegraded.Set(0)
	c.stats.MaxHostWeight.Set(int64(maxW))
}

// Pick chooses a host for a new connection or request; nil when the cluster
// has none. It reads one atomic snapshot and does not block.
func (c *Cluster) Pick(hash uint64, hasHash bool) *Host {
	lv := c.snap.Load().choose(hash, hasHash)
	if len(lv.pickFrom) == 0 && len(lv.locs) == 0 {
		return nil
	}
	if lv.panic {
		c.stats.LBHealthyPanic.Inc()
	}
	return lv.pick(hash, hasHash)
}

// newPicker builds the cluster's lb_policy over hosts, with Host.RqActive as
// least_request's active count. Config validation has built the same policy
// already, so an error here is a bug: it is logged and the cluster picks no
// host (ErrNoHealthyHost) rather than silently balancing another way.
func (c *Cluster) newPicker(cfg *config.Cluster, hosts []*Host) Picker {
	lbc, _ := cfg.LBConfig().(lb.Config) // nil: the policy's defaults
	pol, err := lb.New(cfg.LBPolicy, lbc)
	var p lb.Picker
	if err == nil {
		eps := make([]lb.Endpoint, len(hosts))
		useName := false
		if rc, ok := cfg.LBConfig().(*lb.RingHashConfig); ok {
			useName = rc.UseHostnameForHashing
		} else if mc, ok := cfg.LBConfig().(*lb.MaglevConfig); ok {
			useName = mc.UseHostnameForHashing
		}
		for i, h := range hosts {
			eps[i] = lb.Endpoint{Key: lb.HashKey(h.DialAddress(), h.hostname(), "", useName), Weight: h.Weight(), Active: &h.RqActive}
		}
		p, err = pol.Build(eps)
	}
	if err != nil {
		c.log.Error("building load balancer", "lb_policy", cfg.LBPolicy, "err", err)
		return noPicker{}
	}
	return p
}

// noPicker picks nothing.
type noPicker struct{}

func (noPicker) Pick(uint64, bool) int { return -1 }

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
