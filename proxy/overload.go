package proxy

import (
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/overload"
)

// The overload manager's hooks into listeners and connections live here;
// listener.go and server.go only call them.

// listenerOverload is a listener's part: the stop_accepting_connections
// gate, its subscription, and the reject_incoming_connections handle.
type listenerOverload struct {
	stop     chan struct{} // closed when the listener stops accepting
	stopOnce sync.Once
	unsub    func() // ends the stop_accepting_connections subscription
	reject   *overload.Action

	mu     sync.Mutex
	resume chan struct{} // non-nil while paused; closed on resume
}

// connOverload is a connection's part: its session, for buffered bytes and
// Abort, and whether it was reset.
type connOverload struct {
	s     atomic.Pointer[filters.Session] // set once serve has built it
	reset atomic.Bool
}

// attachOverload subscribes a new listener to the accept actions and lists
// it for resets. Pausing sets a past deadline on the listening socket, so
// that an Accept already waiting returns and the loop parks on the gate:
// new clients stay in the kernel's backlog, as with Envoy's disabled
// listeners.
func (s *Server) attachOverload(l *listener) {
	m := s.Overload
	ov := &l.ov
	ov.stop = make(chan struct{})
	ov.reject = m.Action(config.ActionRejectIncomingConnections)
	tl, _ := l.ln.(*net.TCPListener)
	ov.unsub = m.Action(config.ActionStopAcceptingConnections).Subscribe(func(v float64) {
		ov.mu.Lock()
		defer ov.mu.Unlock()
		switch pause := v >= 1; {
		case pause && ov.resume == nil:
			ov.resume = make(chan struct{})
			if tl != nil {
				tl.SetDeadline(time.Now())
			}
			l.log.Warn("overload: listener stopped accepting connections")
		case !pause && ov.resume != nil:
			if tl != nil {
				tl.SetDeadline(time.Time{})
			}
			close(ov.resume)
			ov.resume = nil
			l.log.Warn("overload: listener accepts connections again")
		}
	})
	s.serving.add(l)
}

// close ends the subscription and releases a parked accept loop.
func (ov *listenerOverload) close() {
	ov.stopOnce.Do(func() {
		if ov.stop != nil {
			close(ov.stop)
		}
		if ov.unsub != nil {
			ov.unsub()
		}
	})
}

// waitAccepting parks the accept loop while stop_accepting_connections is
// saturated; false means the listener stopped meanwhile.
func (l *listener) waitAccepting() bool {
	for {
		l.ov.mu.Lock()
		wait := l.ov.resume
		l.ov.mu.Unlock()
		if wait == nil {
			return true
		}
		select {
		case <-wait:
		case <-l.ov.stop:
			return false
		}
	}
}

// admit decides about a freshly accepted connection: closed and counted
// when reject_incoming_connections refuses it (Envoy rejects that fraction
// of new connections, all when saturated) or the global connection maximum
// is open. An admitted connection was counted by AcquireConnection.
func (l *listener) admit(raw net.Conn) bool {
	if v := l.ov.reject.Value(); v >= 1 || (v > 0 && rand.Float64() < v) {
		l.st.overloadReject.Inc()
		raw.Close()
		return false
	}
	if !l.srv.Overload.AcquireConnection() {
		l.st.globalOverflow.Inc()
		raw.Close()
		return false
	}
	return true
}

// bind ties the connection's session to it: Session.Abort cancels the
// connection's context, and resets ask the session for its buffered bytes.
func (ac *activeConn) bind(s *filters.Session) {
	s.Cancel = ac.cancel
	ac.ov.s.Store(s)
}

// BufferedBytes is what the connection's filters report holding; 0 once it
// was reset (it may stay listed until its goroutine has cleaned up).
func (ac *activeConn) BufferedBytes() int64 {
	if ac.ov.reset.Load() {
		return 0
	}
	if s := ac.ov.s.Load(); s != nil {
		return s.BufferedBytes()
	}
	return 0
}

// Reset ends the connection for the overload manager, once.
func (ac *activeConn) Reset(reason string) {
	if !ac.ov.reset.CompareAndSwap(false, true) {
		return
	}
	if s := ac.ov.s.Load(); s != nil {
		s.Log.Warn("connection reset", "reason", reason, "buffered_bytes", s.BufferedBytes())
		s.Abort("overload_reset")
		return
	}
	ac.cancel()
	ac.raw.Close()
}

// listenerSet lists the listeners whose connections may be reset: every
// started one until it has stopped accepting and its last connection ended
// (pruned as new ones are added and as it is walked).
type listenerSet struct {
	mu sync.Mutex
	ls map[*listener]struct{}
}

func (ls *listenerSet) add(l *listener) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.ls == nil {
		ls.ls = map[*listener]struct{}{}
	}
	ls.pruneLocked()
	ls.ls[l] = struct{}{}
}

// pruneLocked forgets listeners that are done; ls.mu is held.
func (ls *listenerSet) pruneLocked() {
	for l := range ls.ls {
		l.mu.Lock()
		done := l.closing && len(l.conns) == 0
		l.mu.Unlock()
		if done {
			delete(ls.ls, l)
		}
	}
}

// EachStream lists every open connection of every listener, draining ones
// included, for reset_high_memory_stream.
func (ls *listenerSet) EachStream(fn func(overload.Stream)) {
	ls.mu.Lock()
	ls.pruneLocked()
	all := make([]*listener, 0, len(ls.ls))
	for l := range ls.ls {
		all = append(all, l)
	}
	ls.mu.Unlock()
	for _, l := range all {
		l.mu.Lock()
		for ac := range l.conns {
			fn(ac)
		}
		l.mu.Unlock()
	}
}

var (
	_ overload.StreamSource = (*listenerSet)(nil)
	_ overload.Stream       = (*activeConn)(nil)
)
