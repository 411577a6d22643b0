package filters

// SetBufferedBytes registers what the connection's buffers hold: f returns
// the bytes a terminal or observer keeps in user space for this connection
// now (queued replies, a held request). The server asks it when the overload
// manager's reset_high_memory_stream looks for the connections holding the
// most; the last registration wins. f must be cheap and safe to call from
// any goroutine while the connection runs.
func (s *Session) SetBufferedBytes(f func() int64) {
	s.mu.Lock()
	s.buffered = f
	s.mu.Unlock()
}

// BufferedBytes returns what the registered func reports, or 0.
func (s *Session) BufferedBytes() int64 {
	s.mu.Lock()
	f := s.buffered
	s.mu.Unlock()
	if f == nil {
		return 0
	}
	return f()
}

// Abort ends the connection from any goroutine, for a reason the filter has
// logged and counted (a handshake or request timeout, an overload reset):
// the reason becomes the access log's termination reason unless one was set
// already, the terminal's context is cancelled (which also stops an event
// loop moving the bytes) and the downstream socket is closed.
func (s *Session) Abort(reason string) {
	s.UpdateAccess(func(a *AccessRecord) {
		if a.TerminationReason == "" {
			a.TerminationReason = reason
		}
	})
	if s.Cancel != nil {
		s.Cancel()
	}
	if s.Downstream != nil {
		s.Downstream.Close()
	}
}
