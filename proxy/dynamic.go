package proxy

import (
	"context"
	"errors"
	"sort"
	"sync"
	"time"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/filters"
)

// Listeners that filters open at run time (filters.DynamicListeners):
// kafka_broker's one listener per broker. They are listeners like the
// configured ones (same accept loop, serve, stats, drain), kept apart from
// Server.listeners so that Apply's diff of configured listeners leaves them
// alone; they belong to the configured listener whose filter opened them.

// dynamicSet is the server's dynamic listeners, by full name
// ("<owner>/<name>"). Lock order: Server.mu before dynamicSet.mu.
type dynamicSet struct {
	mu      sync.Mutex
	m       map[string]*dynListener
	stopped bool
	wg      sync.WaitGroup // drains
}

// dynListener is one dynamic listener and who may close it.
type dynListener struct {
	l     *listener
	owner string // the configured listener's name
	want  string // the address asked for
	gen   uint64 // bumped by each Listen that takes it over
}

// dynamicHost is filters.DynamicListeners for one configured listener.
type dynamicHost struct {
	srv       *Server
	owner     string
	accessLog string // the owner's access log path, "" for none
}

// dynamicFor returns the DynamicListeners of the configured listener lc.
func (s *Server) dynamicFor(lc *config.Listener) filters.DynamicListeners {
	h := &dynamicHost{srv: s, owner: lc.Name}
	if lc.AccessLog != nil {
		h.accessLog = lc.AccessLog.Path
	}
	return h
}

// errStopped refuses a Listen after shutdown.
var errStopped = errors.New("server is shut down")

func (h *dynamicHost) Listen(name, addr string, ch filters.DynamicChain) (filters.DynamicListener, error) {
	s, full := h.srv, h.owner+"/"+name
	cs := &chainSet{listener: config.Listener{Name: full, Address: addr}, log: s.log.With("listener", full),
		chains: []*chain{{name: name, observers: ch.Observers, terminal: ch.Terminal}}}
	if h.accessLog != "" {
		var err error
		if cs.alog, err = openAccessLog(h.accessLog); err != nil {
			return nil, err
		}
	}
	d := &s.dyn
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped {
		return nil, errStopped
	}
	if old := d.m[full]; old != nil {
		if old.want == addr {
			old.gen++
			old.l.setChains(cs)
			return &dynHandle{set: d, srv: s, name: full, dl: old, gen: old.gen}, nil
		}
		s.removeDynamicLocked(full) // asked elsewhere now: a new socket
	}
	ln, err := listenConfig.Listen(context.Background(), "tcp", addr)
	if err != nil {
		return nil, err
	}
	l := s.newListener(cs.listener, ln, cs, nil)
	l.log = cs.log
	l.wg.Add(1)
	go l.acceptLoop()
	dl := &dynListener{l: l, owner: h.owner, want: addr}
	if d.m == nil {
		d.m = map[string]*dynListener{}
	}
	d.m[full] = dl
	s.log.Info("listener started", "listener", full, "address", l.addr)
	return &dynHandle{set: d, srv: s, name: full, dl: dl}, nil
}

// dynHandle is a filter's handle on a dynamic listener.
type dynHandle struct {
	set  *dynamicSet
	srv  *Server
	name string
	dl   *dynListener
	gen  uint64
}

func (h *dynHandle) Addr() string { return h.dl.l.addr }

func (h *dynHandle) Close() {
	h.set.mu.Lock()
	defer h.set.mu.Unlock()
	if h.set.m[h.name] == h.dl && h.dl.gen == h.gen {
		h.srv.removeDynamicLocked(h.name)
	}
}

// removeDynamicLocked stops accepting on a dynamic listener and drains it
// in the background until the drain timeout. s.dyn.mu is held.
func (s *Server) removeDynamicLocked(name string) {
	dl := s.dyn.m[name]
	if dl == nil {
		return
	}
	delete(s.dyn.m, name)
	timeout := 30 * time.Second
	if cfg := s.cfg.Load(); cfg != nil {
		timeout = cfg.DrainTimeout.D()
	}
	s.log.Info("listener draining", "listener", name, "address", dl.l.addr, "open_connections", dl.l.activeConns())
	dl.l.stopAccepting()
	s.dyn.wg.Add(1)
	dl.l.setDeadline(time.Now().Add(timeout))
	go func() { defer s.dyn.wg.Done(); dl.l.drain() }()
}

// pruneOwned drops what belonged to listeners no longer configured: their
// dynamic listeners and their retained state. Called by Apply with s.mu
// held, once the new listeners are in place.
func (s *Server) pruneOwned() {
	s.pruneRetained()
	s.dyn.mu.Lock()
	defer s.dyn.mu.Unlock()
	for name, dl := range s.dyn.m {
		if s.listeners[dl.owner] == nil {
			s.removeDynamicLocked(name)
		}
	}
}

// stopDynamic drains every dynamic listener and refuses new ones; wait for
// the drains with s.dyn.wg. Called by Shutdown.
func (s *Server) stopDynamic() {
	s.dyn.mu.Lock()
	defer s.dyn.mu.Unlock()
	s.dyn.stopped = true
	for name := range s.dyn.m {
		s.removeDynamicLocked(name)
	}
}

// dynamicInfos describes the dynamic listeners for /listeners.
func (s *Server) dynamicInfos() []ListenerInfo {
	s.dyn.mu.Lock()
	defer s.dyn.mu.Unlock()
	out := make([]ListenerInfo, 0, len(s.dyn.m))
	for name, dl := range s.dyn.m {
		out = append(out, ListenerInfo{Name: name, Address: dl.l.addr, Connections: dl.l.activeConns()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
