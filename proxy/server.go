// Package proxy is sluice's server: listeners, the accept loop, filter-chain
// selection, TLS termination, draining, and applying a new config (listeners
// added, removed or changed; clusters updated in place).
package proxy

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluice-proxy/sluice/cluster"
	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/internal/guard"
	"github.com/sluice-proxy/sluice/stats"
)

// Server runs listeners and clusters for the current config.
type Server struct {
	Store    *stats.Store
	Clusters *cluster.Manager
	log      *slog.Logger
	started  time.Time

	mu        sync.Mutex // serializes Apply and Shutdown
	cfg       atomic.Pointer[config.Config]
	listeners map[string]*listener
	retained  map[string]*filters.Retained // by listener name; retained.go
	dyn       dynamicSet                   // listeners filters opened; dynamic.go
	draining  sync.WaitGroup
	stopped   bool

	nextID     atomic.Uint64
	totalConns *stats.Gauge
	lmAdded    *stats.Counter
	lmRemoved  *stats.Counter
	lmModified *stats.Counter
	lmFailed   *stats.Counter
	lmActive   *stats.Gauge
	reloadOK   *stats.Counter
	reloadFail *stats.Counter
	live       *stats.Gauge
	uptime     *stats.Gauge
	healthFail atomic.Bool
	guard      *guard.Guard // server.contained_panics
}

// New returns a server with no listeners.
func New(store *stats.Store, log *slog.Logger) *Server {
	root := store.Root()
	srv, lm := root.Sub("server"), root.Sub("listener_manager")
	s := &Server{
		Store: store, Clusters: cluster.NewManager(root, log), log: log, started: time.Now(),
		listeners:  map[string]*listener{},
		totalConns: srv.Gauge("total_connections"), live: srv.Gauge("live"), uptime: srv.Gauge("uptime"),
		reloadOK: srv.Counter("config_reload"), reloadFail: srv.Counter("config_reload_failed"),
		lmAdded: lm.Counter("listener_added"), lmRemoved: lm.Counter("listener_removed"),
		lmModified: lm.Counter("listener_modified"), lmFailed: lm.Counter("listener_create_failure"),
		lmActive: lm.Gauge("total_listeners_active"),
	}
	s.guard = &guard.Guard{Log: log, Panics: srv.Counter("contained_panics")}
	s.live.Set(1)
	return s
}

// Config returns the running config.
func (s *Server) Config() *config.Config { return s.cfg.Load() }

// Apply makes the server run cfg. Everything that can fail (building filters,
// loading certificates, binding new addresses) happens before anything
// changes; on error the running config is untouched.
func (s *Server) Apply(cfg *config.Config) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return errors.New("server is shut down")
	}
	env := &filters.Env{Stats: s.Store.Root(), Clusters: s.Clusters, Log: s.log, Guard: s.guard}
	type plan struct {
		cfg    config.Listener
		chains *chainSet
		old    *listener
		ln     net.Listener // bound for new listeners
	}
	var plans []*plan
	var bound []net.Listener
	fail := func(err error) error {
		for _, ln := range bound {
			ln.Close()
		}
		for _, p := range plans {
			p.chains.retire()
		}
		return err
	}
	for i := range cfg.Listeners {
		lc := cfg.Listeners[i]
		lenv := *env
		lenv.Listener = lc.Name
		lenv.Log = s.log.With("listener", lc.Name)
		lenv.Retained = s.retainedFor(lc.Name)
		lenv.Listeners = s.dynamicFor(&lc)
		cs, err := buildChains(&lc, fmt.Sprintf("listeners[%d]", i), &lenv)
		if err != nil {
			return fail(err)
		}
		p := &plan{cfg: lc, chains: cs, old: s.listeners[lc.Name]}
		plans = append(plans, p) // from here on a failure retires its chains too
		if lc.AccessLog != nil {
			if cs.alog, err = openAccessLog(lc.AccessLog.Path); err != nil {
				return fail(fmt.Errorf("listeners[%d].access_log.path: %w", i, err))
			}
		}
		if p.old != nil && p.old.cfg.Address != lc.Address {
			p.old = nil // a new address is a new listener; the old one drains
		}
		if p.old == nil {
			ln, err := listen(lc.Address, s.listeners)
			if err != nil {
				s.lmFailed.Inc()
				return fail(fmt.Errorf("listeners[%d].address: %w", i, err))
			}
			bound = append(bound, ln)
			p.ln = ln
		}
	}

	// Nothing can fail from here on.
	s.Clusters.Apply(cfg.Clusters)
	next := make(map[string]*listener, len(plans))
	for _, p := range plans {
		if p.old != nil {
			if !reflect.DeepEqual(p.old.cfg, p.cfg) {
				s.lmModified.Inc()
			}
			p.old.cfg = p.cfg
			p.old.setChains(p.chains)
			next[p.cfg.Name] = p.old
			continue
		}
		l := &listener{srv: s, cfg: p.cfg, ln: p.ln, addr: p.ln.Addr().String(),
			conns: map[*activeConn]struct{}{}}
		l.log = s.log.With("listener", p.cfg.Name)
		l.st = newListenerStats(s.Store.Root(), l.addr)
		l.setChains(p.chains)
		l.wg.Add(1)
		go l.acceptLoop()
		next[p.cfg.Name] = l
		s.lmAdded.Inc()
		s.log.Info("listener started", "listener", p.cfg.Name, "address", l.addr)
	}
	deadline := time.Now().Add(cfg.DrainTimeout.D())
	for name, old := range s.listeners {
		if next[name] == old {
			continue
		}
		s.lmRemoved.Inc()
		s.log.Info("listener draining", "listener", name, "address", old.addr, "open_connections", old.activeConns())
		old.stopAccepting()
		s.draining.Add(1)
		go func(l *listener) { defer s.draining.Done(); l.drain(deadline) }(old)
	}
	s.listeners = next
	s.pruneOwned()
	s.lmActive.Set(int64(len(next)))
	s.cfg.Store(cfg)
	return nil
}

// listen binds addr. A listener being replaced at the same address is still
// bound, so an address conflict among running listeners is reported clearly.
func listen(addr string, running map[string]*listener) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		for _, l := range running {
			if l.cfg.Address == addr {
				return nil, fmt.Errorf("%s is still used by listener %q", addr, l.cfg.Name)
			}
		}
		return nil, err
	}
	return ln, nil
}

// Reload loads file and applies it; a bad file leaves the running config
// serving, and is logged and counted.
func (s *Server) Reload(file string) error {
	cfg, err := config.Load(file)
	if err == nil {
		err = s.Apply(cfg)
	}
	if err != nil {
		s.reloadFail.Inc()
		s.log.Error("config reload refused; the running config keeps serving", "file", file, "err", err)
		return err
	}
	s.reloadOK.Inc()
	s.log.Info("config reloaded", "file", file)
	return nil
}

// Shutdown stops accepting on every listener, lets connections finish until
// the drain timeout, then closes what is left and stops the clusters.
func (s *Server) Shutdown() {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return
	}
	s.stopped = true
	s.live.Set(0)
	timeout := 30 * time.Second
	if cfg := s.cfg.Load(); cfg != nil {
		timeout = cfg.DrainTimeout.D()
	}
	deadline := time.Now().Add(timeout)
	for _, l := range s.listeners {
		s.draining.Add(1)
		go func(l *listener) { defer s.draining.Done(); l.drain(deadline) }(l)
	}
	s.listeners = map[string]*listener{}
	s.stopDynamic()
	s.mu.Unlock()
	s.draining.Wait()
	s.dyn.wg.Wait()
	s.Clusters.Close()
}

// ListenerInfo describes a running listener for the admin server.
type ListenerInfo struct {
	Name        string
	Address     string
	Connections int
}

// Listeners returns the running listeners sorted by name.
func (s *Server) Listeners() []ListenerInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]ListenerInfo, 0, len(s.listeners))
	for _, l := range s.listeners {
		out = append(out, ListenerInfo{Name: l.cfg.Name, Address: l.addr, Connections: l.activeConns()})
	}
	out = append(out, s.dynamicInfos()...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ListenerAddr returns the bound address of the named listener, or "".
func (s *Server) ListenerAddr(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l := s.listeners[name]; l != nil {
		return l.addr
	}
	return ""
}

// Live reports whether the server is serving and passing health checks.
func (s *Server) Live() bool { return !s.stopped && !s.healthFail.Load() }

// SetHealthCheckFailed is POST /healthcheck/fail (true) and /ok (false).
func (s *Server) SetHealthCheckFailed(failed bool) { s.healthFail.Store(failed) }

// State returns Envoy's server state name: LIVE or DRAINING.
func (s *Server) State() string {
	s.mu.Lock()
	stopped := s.stopped
	s.mu.Unlock()
	if stopped || s.healthFail.Load() {
		return "DRAINING"
	}
	return "LIVE"
}

// Uptime returns how long the server has run, and refreshes server.uptime.
func (s *Server) Uptime() time.Duration {
	d := time.Since(s.started)
	s.uptime.Set(int64(d.Seconds()))
	return d
}

// String is for logs.
func (s *Server) String() string {
	var names []string
	for _, l := range s.Listeners() {
		names = append(names, l.Name+"@"+l.Address)
	}
	return "sluice[" + strings.Join(names, ",") + "]"
}
