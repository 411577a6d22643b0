package proxy

import "time"

// DrainListeners is Envoy's /drain_listeners: every running listener stops
// accepting new connections; open connections carry on (a reload or
// Shutdown ends them) and /ready answers DRAINING from now on, so that a
// load balancer moves new clients away. graceful keeps accepting for the
// config's drain_timeout first, as Envoy's graceful drain period does.
func (s *Server) DrainListeners(graceful bool) {
	s.drainingAll.Store(true)
	stop := func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.stopped {
			return
		}
		for _, l := range s.listeners {
			l.stopAccepting()
		}
		s.dyn.mu.Lock()              // after s.mu, the documented order
		for _, dl := range s.dyn.m { // kafka_broker's per-broker listeners too
			dl.l.stopAccepting()
		}
		s.dyn.mu.Unlock()
	}
	if !graceful {
		stop()
		return
	}
	timeout := 30 * time.Second
	if cfg := s.cfg.Load(); cfg != nil {
		timeout = cfg.DrainTimeout.D()
	}
	time.AfterFunc(timeout, stop)
}
