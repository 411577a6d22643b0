package proxy

import "github.com/sluice-proxy/sluice/filters"

// retainedFor returns the state kept across reloads for the listener named
// name. Called by Apply with s.mu held.
func (s *Server) retainedFor(name string) *filters.Retained {
	if s.retained == nil {
		s.retained = map[string]*filters.Retained{}
	}
	r := s.retained[name]
	if r == nil {
		r = &filters.Retained{}
		s.retained[name] = r
	}
	return r
}

// pruneRetained drops the state of listeners no longer configured. Called by
// Apply with s.mu held, once the new listeners are in place.
func (s *Server) pruneRetained() {
	for name := range s.retained {
		if s.listeners[name] == nil {
			delete(s.retained, name)
		}
	}
}
