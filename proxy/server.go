// Package proxy is sluice's server: listeners, the accept loop, filter-chain
// selection, TLS termination, draining, and applying a new config (listeners
// added, removed or changed; clusters updated in place).
package proxy

import (
	"log/slog"
	"net"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluice-proxy/sluice/cluster"
	"github.com/sluice-proxy/sluice/cluster/httppool"
	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/internal/guard"
	"github.com/sluice-proxy/sluice/overload"
	"github.com/sluice-proxy/sluice/proxy/ioloop"
	"github.com/sluice-proxy/sluice/stats"
	"github.com/sluice-proxy/sluice/tlsctx"
)

// Server runs listeners and clusters for the current config.
type Server struct {
	Store    *stats.Store
	Clusters *cluster.Manager
	// Secrets serves SDS secrets whose sds_config is the control plane
	// (ads) to listener TLS contexts; set it before the first Apply (the
	// xDS client). Nil refuses such configs. Clusters take theirs from
	// Clusters.Secrets.
	Secrets tlsctx.SecretSource
	// Overload is the overload manager; listeners take its actions.
	Overload *overload.Manager
	log      *slog.Logger
	started  time.Time

	mu        sync.Mutex // serializes Apply and Shutdown
	cfg       atomic.Pointer[config.Config]
	listeners map[string]*listener
	retiring  map[string]*listener         // draining listeners by address, for adoption
	retained  map[string]*filters.Retained // by listener name; retained.go
	dyn       dynamicSet                   // listeners filters opened; dynamic.go
	draining  sync.WaitGroup
	stopped   bool
	serving   listenerSet // for the overload manager's resets

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
	// drainingAll is set by DrainListeners: /ready answers DRAINING.
	drainingAll atomic.Bool
	guard       *guard.Guard  // server.contained_panics
	loops       *ioloop.Group // nil: none
	parse       func(file string, data []byte) (*config.Config, error)
	inherited   map[string]net.Listener // hotrestart.go; guarded by mu
	drainTime   time.Duration           // DrainTime; 0: the config's
	factories   filters.Factories       // Filters: known to this server only
	httpPools   *httppool.Pools         // shared by all HTTP filter chains
}

// Option configures a Server at New.
type Option func(*options)

type options struct {
	ioLoops   int
	parse     func(file string, data []byte) (*config.Config, error)
	inherited map[string]net.Listener
	drainTime time.Duration
	factories filters.Factories
}

// Filters adds filter factories known to this server only, looked up
// before the registered ones, in its configs (with the default parser) and
// chains. Tests use it for their own filters instead of filters.Register
// in init, so that tests can run in parallel.
func Filters(fs ...filters.Factory) Option {
	return func(o *options) { o.factories = append(o.factories, fs...) }
}

// ConfigParser sets how Reload and ReloadData turn a file's bytes into a
// config (cmd/sluice passes one that reads Envoy bootstraps too). The
// default is config.Parse.
func ConfigParser(parse func(file string, data []byte) (*config.Config, error)) Option {
	return func(o *options) { o.parse = parse }
}

// IOLoops sets how many event loops move plain TCP bytes: n > 0 loops, 0
// none (a goroutine per direction), n < 0 the default (ioloop.DefaultCount
// of GOMAXPROCS). The default is the default.
func IOLoops(n int) Option { return func(o *options) { o.ioLoops = n } }

// New returns a server with no listeners. It starts the server's event
// loops; Shutdown stops them.
func New(store *stats.Store, log *slog.Logger, opts ...Option) *Server {
	o := options{ioLoops: -1}
	for _, opt := range opts {
		opt(&o)
	}
	if o.parse == nil {
		types := o.factories.ConfigTypes()
		o.parse = func(file string, data []byte) (*config.Config, error) {
			return config.ParseFilters(file, data, types)
		}
	}
	root := store.Root()
	srv, lm := root.Sub("server"), root.Sub("listener_manager")
	s := &Server{
		Store: store, Clusters: cluster.NewManager(root, log), log: log, started: time.Now(),
		listeners: map[string]*listener{}, retiring: map[string]*listener{},
		totalConns: srv.Gauge("total_connections"), live: srv.Gauge("live"), uptime: srv.Gauge("uptime"),
		reloadOK: srv.Counter("config_reload"), reloadFail: srv.Counter("config_reload_failed"),
		lmAdded: lm.Counter("listener_added"), lmRemoved: lm.Counter("listener_removed"),
		lmModified: lm.Counter("listener_modified"), lmFailed: lm.Counter("listener_create_failure"),
		lmActive: lm.Gauge("total_listeners_active"), parse: o.parse, factories: o.factories,
		inherited: o.inherited, drainTime: o.drainTime,
	}
	s.guard = &guard.Guard{Log: log, Panics: srv.Counter("contained_panics")}
	s.httpPools = httppool.NewPools(s.Clusters, httppool.Options{Log: log})
	if n := o.ioLoops; n != 0 {
		if n < 0 {
			n = ioloop.DefaultCount(runtime.GOMAXPROCS(0))
		}
		failures := srv.Counter("io_loop_failures")
		g, err := ioloop.New(n, ioloop.OnLoopFailure(func(error) { failures.Inc() }))
		if err != nil {
			log.Warn("no event loops; a goroutine per direction moves tcp_proxy's bytes", "err", err)
		} else {
			s.loops = g
			log.Debug("event loops started", "io_loops", n)
		}
	}
	s.live.Set(1)
	s.Overload = overload.New(root, log, &s.serving)
	return s
}

// Loops returns the server's event loops, nil when they are off.
func (s *Server) Loops() *ioloop.Group { return s.loops }

// Config returns the running config.
func (s *Server) Config() *config.Config { return s.cfg.Load() }

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
	if s.drainTime > 0 {
		timeout = s.drainTime
	}
	deadline := time.Now().Add(timeout)
	for _, l := range s.listeners {
		l.setDeadline(deadline)
		s.draining.Add(1)
		go func(l *listener) { defer s.draining.Done(); l.drain() }(l)
	}
	s.listeners = map[string]*listener{}
	s.stopDynamic()
	s.mu.Unlock()
	s.draining.Wait()
	s.Overload.Close()
	s.dyn.wg.Wait()
	if err := s.httpPools.Close(); err != nil {
		s.log.Warn("closing HTTP upstream pools", "err", err)
	}
	s.Clusters.Close()
	if s.loops != nil {
		s.loops.Close()
	}
}

// OpenConnections returns the number of downstream connections open, on
// running and draining listeners alike.
func (s *Server) OpenConnections() int64 { return s.totalConns.Value() }

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
	if stopped || s.healthFail.Load() || s.drainingAll.Load() {
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
