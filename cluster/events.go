package cluster

import (
	"slices"
	"sync"
)

// EventKind says what happened to a host.
type EventKind uint8

const (
	// HostUnhealthy: the host got its first health flag (failed an active
	// check, was ejected or is draining). Pools should close its idle
	// connections and stop using the rest.
	HostUnhealthy EventKind = iota + 1
	// HostHealthy: the host's last health flag was cleared.
	HostHealthy
	// HostRemoved: the host left the cluster for good.
	HostRemoved
)

// String names the kind for logs.
func (k EventKind) String() string {
	switch k {
	case HostUnhealthy:
		return "unhealthy"
	case HostHealthy:
		return "healthy"
	case HostRemoved:
		return "removed"
	}
	return "unknown"
}

// HostEvent is a change of one host, delivered to subscribers.
type HostEvent struct {
	Host *Host
	Kind EventKind
}

// subscribers is the copy-on-write list of event callbacks.
type subscribers struct {
	mu   sync.Mutex
	list []*func(HostEvent)
}

// Subscribe calls fn for every host event of c until the returned cancel is
// called. fn runs on the goroutine that changed the host (a health checker,
// the outlier sweep, a terminal reporting a failure): it must not block or
// call back into Subscribe. This is how connection pools learn to close
// connections to hosts that went unhealthy.
func (c *Cluster) Subscribe(fn func(HostEvent)) (cancel func()) {
	p := &fn
	s := &c.subs
	s.mu.Lock()
	s.list = append(slices.Clip(s.list), p)
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if i := slices.Index(s.list, p); i >= 0 {
			s.list = slices.Delete(slices.Clone(s.list), i, i+1)
		}
	}
}

// notify delivers ev to the subscribers present now.
func (c *Cluster) notify(ev HostEvent) {
	c.subs.mu.Lock()
	list := c.subs.list
	c.subs.mu.Unlock()
	for _, fn := range list {
		(*fn)(ev)
	}
}
