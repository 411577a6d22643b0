package filters

import "sync"

// drainSignal runs callbacks once when the connection's listener starts
// draining.
type drainSignal struct {
	mu       sync.Mutex
	draining bool
	next     int
	fs       map[int]func()
}

// OnDrain registers f to run once, on its own goroutine, when the server
// starts draining the connection's listener (a reload removed it, or
// shutdown), well before the drain deadline cancels the terminal's context;
// at once if that has happened. Protocol terminals use it to end a
// connection politely (HTTP: Connection: close on the next response, idle
// keep-alive connections closed, GOAWAY on HTTP/2). stop unregisters f and
// reports whether it had not run. No goroutine waits meanwhile.
func (s *Session) OnDrain(f func()) (stop func() bool) {
	d := &s.drain
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.draining {
		go f()
		return func() bool { return false }
	}
	if d.fs == nil {
		d.fs = map[int]func(){}
	}
	id := d.next
	d.next++
	d.fs[id] = f
	return func() bool {
		d.mu.Lock()
		defer d.mu.Unlock()
		_, ok := d.fs[id]
		delete(d.fs, id)
		return ok
	}
}

// Draining reports whether the listener drains.
func (s *Session) Draining() bool {
	s.drain.mu.Lock()
	defer s.drain.mu.Unlock()
	return s.drain.draining
}

// StartDrain runs the OnDrain callbacks; the server calls it, once or more.
func (s *Session) StartDrain() {
	d := &s.drain
	d.mu.Lock()
	if d.draining {
		d.mu.Unlock()
		return
	}
	d.draining = true
	fs := d.fs
	d.fs = nil
	d.mu.Unlock()
	for _, f := range fs {
		go f()
	}
}
