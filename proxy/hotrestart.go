package proxy

import (
	"net"
	"os"
	"time"
)

// Inherit hands the server listening sockets by configured address, taken
// from the process it replaces (package hotrestart): Apply uses one instead
// of binding its address. Those the first Apply does not use are closed.
func Inherit(lns map[string]net.Listener) Option {
	return func(o *options) { o.inherited = lns }
}

// DrainTime overrides the config's drain_timeout for Shutdown (Envoy's
// --drain-time-s); zero keeps the config's.
func DrainTime(d time.Duration) Option { return func(o *options) { o.drainTime = d } }

// takeInherited returns the inherited socket for addr, once.
func (s *Server) takeInherited(addr string) net.Listener {
	ln := s.inherited[addr]
	delete(s.inherited, addr)
	return ln
}

// closeInherited closes the inherited sockets no listener took.
func (s *Server) closeInherited() {
	for addr, ln := range s.inherited {
		ln.Close()
		delete(s.inherited, addr)
	}
}

// ListenerFiles returns a duplicate of the listening socket of each
// configured listener whose configured address is in addrs, and the
// addresses in the same order, for a hot restart. Listeners the new
// config does not have stay here. The caller closes the files.
func (s *Server) ListenerFiles(addrs []string) ([]string, []*os.File) {
	want := map[string]bool{}
	for _, a := range addrs {
		if !isEphemeral(a) {
			want[a] = true
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	var files []*os.File
	for _, l := range s.listeners {
		if !want[l.cfg.Address] {
			continue
		}
		fl, ok := l.ln.(interface{ File() (*os.File, error) })
		if !ok {
			continue
		}
		f, err := fl.File()
		if err != nil {
			s.log.Warn("hot restart: duplicating a listening socket", "listener", l.cfg.Name, "err", err)
			continue
		}
		names, files = append(names, l.cfg.Address), append(files, f)
	}
	return names, files
}
