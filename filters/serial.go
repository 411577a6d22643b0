package filters

import "sync"

// Serial runs jobs one at a time, in order, on a goroutine that exists only
// while jobs are queued: work taken off an event loop's thread (a SQL parse
// that misses its cache) without running many at once, which on a 2-core
// box (and with the WebAssembly SQL parser, which needs an instance per
// concurrent parse) would starve the proxy it was moved off. At most Max jobs
// wait; Submit refuses more, and the caller counts what it dropped. The zero
// value with Max set is ready to use.
type Serial struct {
	Max int

	mu      sync.Mutex
	q       []func()
	running bool
}

// Submit queues job, starting the draining goroutine through start (a
// Session's Go, so that a panic closes that connection only) when none
// runs. It returns false, queuing nothing, when Max jobs are waiting.
func (s *Serial) Submit(job func(), start func(func())) bool {
	s.mu.Lock()
	if len(s.q) >= s.Max {
		s.mu.Unlock()
		return false
	}
	s.q = append(s.q, job)
	run := !s.running
	s.running = true
	s.mu.Unlock()
	if run {
		start(s.drain)
	}
	return true
}

func (s *Serial) drain() {
	for {
		s.mu.Lock()
		if len(s.q) == 0 {
			s.running = false
			s.q = nil
			s.mu.Unlock()
			return
		}
		job := s.q[0]
		s.q[0] = nil
		s.q = s.q[1:]
		s.mu.Unlock()
		job()
	}
}
