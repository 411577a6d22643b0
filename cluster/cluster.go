// Package cluster owns everything upstream of a terminal filter: the cluster
// manager, discovery (static, strict_dns, logical_dns), hosts and their health
// flags, load-balancing snapshots and upstream connects with Envoy's stats.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluice-proxy/sluice/config"
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
	// pickFrom is healthy, or all when the cluster is in panic mode.
	pickFrom []*Host
	picker   Picker
	panic    bool
}

// Cluster is one upstream cluster. Its config and hosts change on reload and
// discovery; terminal filters keep a *Cluster and always see the latest.
type Cluster struct {
	name  string
	stats *Stats
	log   *slog.Logger

	cfg  atomic.Pointer[config.Cluster]
	snap atomic.Pointer[snapshot]

	mu       sync.Mutex // guards hosts and stop; held by control-plane work only
	hosts    []*Host
	stop     context.CancelFunc
	done     chan struct{}
	dialer   func(ctx context.Context, network, addr string) (net.Conn, error)
	resolver *net.Resolver
	resolved map[string][]config.Endpoint // strict_dns: endpoint → its addresses
	version  atomic.Uint64
}

// Name returns the cluster's name.
func (c *Cluster) Name() string { return c.name }

// Stats returns the cluster's stats handles.
func (c *Cluster) Stats() *Stats { return c.stats }

// Config returns the cluster's current config.
func (c *Cluster) Config() *config.Cluster { return c.cfg.Load() }

// Hosts returns the current hosts (a snapshot; do not modify).
func (c *Cluster) Hosts() []*Host { return c.snap.Load().all }

// setHosts replaces the host set, reusing Host values for addresses that stay,
// and publishes a new snapshot.
func (c *Cluster) setHosts(eps []config.Endpoint) {
	c.mu.Lock()
	old := make(map[string]*Host, len(c.hosts))
	for _, h := range c.hosts {
		old[h.addr] = h
	}
	hosts := make([]*Host, 0, len(eps))
	seen := make(map[string]bool, len(eps))
	for _, e := range eps {
		if seen[e.Address] {
			continue
		}
		seen[e.Address] = true
		h := old[e.Address]
		if h == nil {
			h = newHost(c, e.Address, e.Weight)
		} else {
			h.weight.Store(e.Weight)
		}
		hosts = append(hosts, h)
	}
	changed := len(hosts) != len(c.hosts)
	for i := 0; !changed && i < len(hosts); i++ {
		changed = hosts[i] != c.hosts[i]
	}
	c.hosts = hosts
	c.mu.Unlock()
	if changed {
		c.stats.MembershipChange.Inc()
	}
	c.rebuild()
}

// rebuild publishes a new snapshot from the current hosts and their health.
func (c *Cluster) rebuild() {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := &snapshot{all: c.hosts}
	var maxW uint32
	for _, h := range c.hosts {
		if h.Healthy() {
			s.healthy = append(s.healthy, h)
		}
		maxW = max(maxW, h.Weight())
	}
	s.pickFrom = s.healthy
	// Envoy's healthy_panic_threshold (50%): below it, balance over all hosts.
	if len(c.hosts) > 0 && len(s.healthy)*100 < len(c.hosts)*50 {
		s.pickFrom, s.panic = c.hosts, true
	}
	s.picker = newPicker(c.cfg.Load(), s.pickFrom)
	c.snap.Store(s)
	c.version.Add(1)
	c.stats.MembershipTotal.Set(int64(len(s.all)))
	c.stats.MembershipHealthy.Set(int64(len(s.healthy)))
	c.stats.MembershipDegraded.Set(0)
	c.stats.MaxHostWeight.Set(int64(maxW))
}

// Pick chooses a host for a new connection or request; nil when the cluster
// has none. It reads one atomic snapshot and does not block.
func (c *Cluster) Pick(hash uint64, hasHash bool) *Host {
	s := c.snap.Load()
	if len(s.pickFrom) == 0 {
		return nil
	}
	if s.panic {
		c.stats.LBHealthyPanic.Inc()
	}
	i := s.picker.Pick(hash, hasHash)
	if i < 0 {
		return nil
	}
	return s.pickFrom[i]
}

// Connect picks a host and dials it within the cluster's connect_timeout,
// counting Envoy's upstream_cx_* stats. The returned Conn must be closed with
// its Close method, which keeps the active gauges right.
func (c *Cluster) Connect(ctx context.Context, hash uint64, hasHash bool) (*UpstreamConn, error) {
	h := c.Pick(hash, hasHash)
	if h == nil {
		c.stats.CxNoneHealthy.Inc()
		return nil, fmt.Errorf("cluster %s: %w", c.name, ErrNoHealthyHost)
	}
	return c.Dial(ctx, h)
}

// Dial connects to a chosen host of this cluster.
func (c *Cluster) Dial(ctx context.Context, h *Host) (*UpstreamConn, error) {
	cfg := c.cfg.Load()
	c.stats.CxTotal.Inc()
	h.CxTotal.Add(1)
	start := time.Now()
	dctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout.D())
	conn, err := c.dialer(dctx, "tcp", h.addr)
	cancel()
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
			c.stats.CxConnectTimeout.Inc()
		}
		c.stats.CxConnectFail.Inc()
		h.CxConnectFail.Add(1)
		return nil, fmt.Errorf("cluster %s: connect to %s: %w", c.name, h.addr, err)
	}
	c.stats.CxConnectMs.Record(float64(time.Since(start).Microseconds()) / 1000)
	c.stats.CxActive.Inc()
	h.CxActive.Add(1)
	return &UpstreamConn{Conn: conn, Host: h, start: time.Now()}, nil
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// UpstreamConn is a connection to a host of a cluster.
type UpstreamConn struct {
	net.Conn
	Host   *Host
	start  time.Time
	closed atomic.Bool
}

// TCP returns the underlying *net.TCPConn, or nil.
func (u *UpstreamConn) TCP() *net.TCPConn {
	t, _ := u.Conn.(*net.TCPConn)
	return t
}

// CloseWrite half-closes the connection when it supports it.
func (u *UpstreamConn) CloseWrite() error {
	if cw, ok := u.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// CountBytes adds to the cluster's byte counters.
func (u *UpstreamConn) CountBytes(rx, tx uint64) {
	st := u.Host.cluster.stats
	if rx > 0 {
		st.CxRxBytes.Add(rx)
	}
	if tx > 0 {
		st.CxTxBytes.Add(tx)
	}
}

// Close closes the connection once; remote says whether the upstream closed
// first (upstream_cx_destroy_remote) or we did (upstream_cx_destroy_local).
func (u *UpstreamConn) CloseBy(remote bool) error {
	if !u.closed.CompareAndSwap(false, true) {
		return nil
	}
	st := u.Host.cluster.stats
	st.CxActive.Dec()
	u.Host.CxActive.Add(-1)
	st.CxDestroy.Inc()
	if remote {
		st.CxDestroyRemote.Inc()
	} else {
		st.CxDestroyLocal.Inc()
	}
	st.CxLengthMs.Record(float64(time.Since(u.start).Milliseconds()))
	return u.Conn.Close()
}

// Close closes the connection as a local close.
func (u *UpstreamConn) Close() error { return u.CloseBy(false) }

// rrPicker rotates over hosts with weights honoured by smooth weighted
// round robin over a precomputed schedule; an atomic counter indexes it.
type rrPicker struct {
	sched []int32
	next  atomic.Uint64
}

func newPicker(cfg *config.Cluster, hosts []*Host) Picker {
	if len(hosts) == 0 {
		return &rrPicker{}
	}
	ws := make([]int, len(hosts))
	total := 0
	for i, h := range hosts {
		ws[i] = int(max(h.Weight(), 1))
		total += ws[i]
	}
	// Smooth WRR (as nginx): each round every host gains its weight, the
	// largest current wins and pays the total. Weights are <= 128, so the
	// schedule is at most 128*len(hosts) long.
	cur := make([]int, len(hosts))
	p := &rrPicker{sched: make([]int32, total)}
	for k := range p.sched {
		best := 0
		for i := range cur {
			cur[i] += ws[i]
			if cur[i] > cur[best] {
				best = i
			}
		}
		cur[best] -= total
		p.sched[k] = int32(best)
	}
	p.next.Store(rand.Uint64N(uint64(total)))
	return p
}

func (p *rrPicker) Pick(uint64, bool) int {
	if len(p.sched) == 0 {
		return -1
	}
	return int(p.sched[(p.next.Add(1)-1)%uint64(len(p.sched))])
}
