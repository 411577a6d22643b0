package filters

import "sync"

// A terminal whose connection is moved by an event loop has nothing to do
// until the flow ends, yet used to keep the connection's goroutine parked
// for its whole life, and that goroutine's stack (8 KiB after the
// connection's set-up: listener filters, TLS, observers, the upstream
// dial) was most of an idle connection's memory (issue 20: at most 16 KiB
// per idle connection). Detach lets the terminal's Serve return at once;
// the server then leaves the end of the connection (closing it, the close
// hooks, stats, the access log) to Finish, which the terminal calls when
// the flow ends.

// detachState is the server's end-of-connection work for a Session.
type detachState struct {
	mu       sync.Mutex
	work     func() // set by the server (OnFinish); nil: Detach refuses
	detached bool
	done     bool
}

// OnFinish is for the server: f is its end-of-connection work, run by
// Finish for a detached session. Without it Detach returns false.
func (s *Session) OnFinish(f func()) {
	s.end.mu.Lock()
	s.end.work = f
	s.end.mu.Unlock()
}

// Detach tells the server that the terminal's Serve returns before the
// connection ends and that the terminal will call Finish when it does. It
// returns false, changing nothing, when the server cannot leave the end to
// the terminal (then Serve must return only at the end, as usual).
func (s *Session) Detach() bool {
	s.end.mu.Lock()
	defer s.end.mu.Unlock()
	if s.end.work == nil {
		return false
	}
	s.end.detached = true
	return true
}

// Detached reports that Detach succeeded: the server's end-of-connection
// work waits for Finish.
func (s *Session) Detached() bool {
	s.end.mu.Lock()
	defer s.end.mu.Unlock()
	return s.end.detached
}

// Finish runs the server's end-of-connection work for a detached session,
// once; later calls, and calls on a session not detached, do nothing.
func (s *Session) Finish() {
	s.end.mu.Lock()
	f := s.end.work
	run := s.end.detached && !s.end.done && f != nil
	s.end.done = true
	s.end.mu.Unlock()
	if run {
		f()
	}
}
