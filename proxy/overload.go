package proxy

import (
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/overload"
)

// acceptGate holds a listener's accept loop while the overload manager's
// stop_accepting_connections is saturated: new clients wait in the kernel's
// backlog, as with Envoy's disabled listeners.
type acceptGate struct {
	mu     sync.Mutex
	resume chan struct{} // non-nil while paused; closed on resume
}

// paused returns a channel closed when accepting resumes, or nil.
func (g *acceptGate) paused() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.resume
}

// watchOverload subscribes the listener to the overload manager's accept
// actions. Pausing sets a past deadline on the listening socket, so that an
// Accept already waiting returns and the loop parks on the gate.
func (l *listener) watchOverload(m *overload.Manager) {
	l.reject = m.Action(config.ActionRejectIncomingConnections)
	tl, _ := l.ln.(*net.TCPListener)
	l.unsub = m.Action(config.ActionStopAcceptingConnections).Subscribe(func(v float64) {
		g := &l.gate
		g.mu.Lock()
		defer g.mu.Unlock()
		switch pause := v >= 1; {
		case pause && g.resume == nil:
			g.resume = make(chan struct{})
			if tl != nil {
				tl.SetDeadline(time.Now())
			}
			l.log.Warn("overload: listener stopped accepting connections")
		case !pause && g.resume != nil:
			if tl != nil {
				tl.SetDeadline(time.Time{})
			}
			close(g.resume)
			g.resume = nil
			l.log.Warn("overload: listener accepts connections again")
		}
	})
}

// rejects reports whether reject_incoming_connections refuses this
// connection: Envoy rejects that fraction of new connections (all of them
// when saturated).
func (l *listener) rejects() bool {
	if l.reject == nil {
		return false
	}
	v := l.reject.Value()
	return v >= 1 || (v > 0 && rand.Float64() < v)
}

// bind ties the connection's session to it: Session.Abort cancels the
// connection's context, and resets ask the session for its buffered bytes.
func (ac *activeConn) bind(s *filters.Session) {
	s.Cancel = ac.cancel
	ac.s.Store(s)
}

// BufferedBytes is what the connection's filters report holding; 0 once it
// was reset (it may stay listed until its goroutine has cleaned up).
func (ac *activeConn) BufferedBytes() int64 {
	if ac.reset.Load() {
		return 0
	}
	if s := ac.s.Load(); s != nil {
		return s.BufferedBytes()
	}
	return 0
}

// Reset ends the connection for the overload manager, once.
func (ac *activeConn) Reset(reason string) {
	if !ac.reset.CompareAndSwap(false, true) {
		return
	}
	if s := ac.s.Load(); s != nil {
		s.Log.Warn("connection reset", "reason", reason, "buffered_bytes", s.BufferedBytes())
		s.Abort("overload_reset")
		return
	}
	ac.cancel()
	ac.raw.Close()
}

// EachStream lists every open connection of every listener, draining ones
// included, for reset_high_memory_stream.
func (s *Server) EachStream(fn func(overload.Stream)) {
	s.streamsMu.Lock()
	ls := make([]*listener, 0, len(s.liveLns))
	for l := range s.liveLns {
		ls = append(ls, l)
	}
	s.streamsMu.Unlock()
	for _, l := range ls {
		l.mu.Lock()
		for ac := range l.conns {
			fn(ac)
		}
		l.mu.Unlock()
	}
}

var _ overload.StreamSource = (*Server)(nil)
var _ overload.Stream = (*activeConn)(nil)
