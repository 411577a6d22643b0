package proxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/filters"
)

// Apply makes the server run cfg. Everything that can fail (building filters,
// loading certificates, binding new addresses) happens before anything
// changes; on error the running config is untouched.
//
// A listener is kept (same socket, new chains) when the new config has one
// of the same name and address, or, failing that, one at the same address
// whose old name is gone. A new listener at the address of a listener that
// is still draining adopts it: its connections are not closed at its drain
// deadline but live on as the new listener's. A config without listeners
// is refused while listeners run, unless it says allow_no_listeners.
//
// Errors name the config path, and the file and line when cfg was parsed
// from a file.
func (s *Server) Apply(cfg *config.Config) error {
	return cfg.At(s.apply(cfg))
}

func (s *Server) apply(cfg *config.Config) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return errors.New("server is shut down")
	}
	if len(cfg.Listeners) == 0 && len(s.listeners) > 0 && !cfg.AllowNoListeners {
		return fmt.Errorf("listeners: the config has none and would drain all %d running listeners; "+
			"set allow_no_listeners: true to do that on purpose", len(s.listeners))
	}
	env := &filters.Env{Stats: s.Store.Root(), Clusters: s.Clusters, Log: s.log, Guard: s.guard, Loops: s.loops, Secrets: s.Secrets, Factories: s.factories, HTTPPools: s.httpPools}
	env.HealthCheckFailed = func() bool { return s.healthFail.Load() || s.drainingAll.Load() }
	type plan struct {
		cfg    config.Listener
		chains *chainSet
		old    *listener    // kept running listener
		adopt  *listener    // draining listener at the same address
		ln     net.Listener // bound for new listeners
		// inherited: ln came from a hot restart's parent (net.FileListener,
		// which cannot be told listenConfig's keep-alive).
		inherited bool
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
	kept := s.keptListeners(cfg)
	for i := range cfg.Listeners {
		lc := cfg.Listeners[i]
		lenv := *env
		lenv.Listener = lc.Name
		lenv.BufferLimit = int(lc.PerConnectionBufferLimitBytes)
		lenv.Log = s.log.With("listener", lc.Name)
		lenv.Retained = s.retainedFor(lc.Name)
		lenv.Listeners = s.dynamicFor(&lc)
		cs, err := buildChains(&lc, fmt.Sprintf("listeners[%d]", i), &lenv)
		if err != nil {
			return fail(err)
		}
		p := &plan{cfg: lc, chains: cs, old: kept[i]}
		plans = append(plans, p)
		if lc.AccessLog != nil {
			if cs.alog, err = openAccessLog(lc.AccessLog.Path); err != nil {
				return fail(fmt.Errorf("listeners[%d].access_log.path: %w", i, err))
			}
		}
		if p.old == nil {
			ln := s.takeInherited(lc.Address)
			p.inherited = ln != nil
			if ln == nil {
				ln, err = listen(lc.Address, s.listeners)
			}
			if err != nil {
				s.lmFailed.Inc()
				return fail(fmt.Errorf("listeners[%d].address: %w", i, err))
			}
			bound = append(bound, ln)
			p.ln = ln
			if r := s.retiring[lc.Address]; r != nil && !r.drained.Load() && !isEphemeral(lc.Address) {
				p.adopt = r
			}
		}
	}

	// Upstream TLS contexts load their files now: a bad one refuses the config.
	if err := s.Clusters.PrepareTLS(cfg.Clusters); err != nil {
		return fail(err)
	}

	// Nothing can fail from here on.
	s.Clusters.Apply(cfg.Clusters)
	s.Overload.Apply(cfg.OverloadManager)
	next := make(map[string]*listener, len(plans))
	keep := make(map[*listener]bool, len(plans))
	for _, p := range plans {
		if p.old != nil {
			if !reflect.DeepEqual(p.old.cfg, p.cfg) {
				s.lmModified.Inc()
			}
			p.old.cfg = p.cfg
			p.old.setChains(p.chains)
			next[p.cfg.Name] = p.old
			keep[p.old] = true
			continue
		}
		l := s.newListener(p.cfg, p.ln, p.chains, p.adopt)
		l.keepAliveOff = p.inherited
		if p.adopt != nil {
			delete(s.retiring, p.cfg.Address)
			s.log.Info("listener adopts the draining connections at its address",
				"listener", p.cfg.Name, "address", l.addr, "open_connections", p.adopt.activeConns())
		}
		l.wg.Add(1)
		go l.acceptLoop()
		next[p.cfg.Name] = l
		s.lmAdded.Inc()
		s.log.Info("listener started", "listener", p.cfg.Name, "address", l.addr)
	}
	deadline := time.Now().Add(cfg.DrainTimeout.D())
	for addr, r := range s.retiring {
		if r.drained.Load() {
			delete(s.retiring, addr)
		}
	}
	for name, old := range s.listeners {
		if keep[old] {
			continue
		}
		s.lmRemoved.Inc()
		s.log.Info("listener draining", "listener", name, "address", old.addr, "open_connections", old.activeConns())
		old.stopAccepting()
		old.setDeadline(deadline)
		if !isEphemeral(old.cfg.Address) {
			s.retiring[old.cfg.Address] = old
		}
		s.draining.Add(1)
		go func(l *listener) { defer s.draining.Done(); l.drain() }(old)
	}
	s.listeners = next
	s.closeInherited()
	s.pruneOwned()
	s.lmActive.Set(int64(len(next)))
	s.cfg.Store(cfg)
	return nil
}

// keptListeners maps the index of each listener of cfg that keeps running
// to its running listener: the one of the same name at the same address,
// else one at the same address that no listener of cfg keeps by name (a
// rename keeps the socket and its connections). Port 0 addresses only match
// by name.
func (s *Server) keptListeners(cfg *config.Config) map[int]*listener {
	kept := map[int]*listener{}
	claimed := map[*listener]bool{}
	for i, lc := range cfg.Listeners {
		if old := s.listeners[lc.Name]; old != nil && old.cfg.Address == lc.Address {
			kept[i], claimed[old] = old, true
		}
	}
	for i, lc := range cfg.Listeners {
		if kept[i] != nil || isEphemeral(lc.Address) {
			continue
		}
		for _, old := range s.listeners {
			if !claimed[old] && old.cfg.Address == lc.Address {
				kept[i], claimed[old] = old, true
				break
			}
		}
	}
	return kept
}

// newListener makes a listener on the bound ln; adopt, when not nil, is a
// draining listener at the same address whose connections it keeps.
func (s *Server) newListener(lc config.Listener, ln net.Listener, cs *chainSet, adopt *listener) *listener {
	l := &listener{srv: s, cfg: lc, ln: ln, addr: ln.Addr().String(),
		conns: map[*activeConn]struct{}{}, kick: make(chan struct{}, 1)}
	l.log = s.log.With("listener", lc.Name)
	s.attachOverload(l)
	l.st = newListenerStats(s.Store.Root(), l.addr)
	if adopt != nil {
		l.adopted = []*listener{adopt}
		adopt.setDeadline(time.Time{})
	}
	l.setChains(cs)
	return l
}

// isEphemeral reports whether addr asks for any free port: two such
// listeners are never the same.
func isEphemeral(addr string) bool { return strings.HasSuffix(addr, ":0") }

// listenConfig binds listeners without Go's default TCP keep-alive on
// accepted connections (15 s probes): Envoy sets none on downstream sockets
// unless socket_options ask (tcp_proxy's one-hour idle_timeout ends dead
// clients' connections), and the four setsockopt calls per accepted
// connection are a tenth of a short proxied connection's syscalls.
var listenConfig = net.ListenConfig{KeepAlive: -1}

// listen binds addr. A listener being replaced at the same address is still
// bound, so an address conflict among running listeners is reported clearly.
func listen(addr string, running map[string]*listener) (net.Listener, error) {
	ln, err := listenConfig.Listen(context.Background(), "tcp", addr)
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
	data, err := os.ReadFile(file)
	if err != nil {
		return s.reloaded(file, err)
	}
	return s.ReloadData(file, data)
}

// ReloadData parses data (the content of file, as a watcher read it) and
// applies it, as Reload does.
func (s *Server) ReloadData(file string, data []byte) error {
	cfg, err := s.parse(file, data)
	if err == nil {
		err = s.Apply(cfg)
	}
	return s.reloaded(file, err)
}

// ParseConfig turns a config file's bytes into a config as Reload does:
// with the server's ConfigParser, or config.ParseFilters knowing the
// server's own filters (Filters).
func (s *Server) ParseConfig(file string, data []byte) (*config.Config, error) {
	return s.parse(file, data)
}

// reloaded logs and counts a reload's outcome.
func (s *Server) reloaded(file string, err error) error {
	if err != nil {
		s.reloadFail.Inc()
		s.log.Error("config reload refused; the running config keeps serving", "file", file, "err", err)
		return err
	}
	s.reloadOK.Inc()
	s.log.Info("config reloaded", "file", file)
	return nil
}
