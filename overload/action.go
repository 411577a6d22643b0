package overload

import (
	"math"
	"sync"
	"sync/atomic"

	"github.com/sluice-proxy/sluice/stats"
)

// Action is one overload action's state: a value from 0 (inactive) to 1
// (saturated), the largest of its triggers'. Every known action has one
// Action for the Manager's life, configured or not, so consumers take the
// handle once; an action no config names stays at 0.
type Action struct {
	name string
	bits atomic.Uint64 // math.Float64bits of the value

	mu   sync.Mutex
	subs map[*subscription]struct{}

	// Envoy's overload.<action>.active (1 when saturated) and
	// overload.<action>.scale_percent; nil until the action is configured.
	active, scale *stats.Gauge
}

type subscription struct{ fn func(value float64) }

// Name returns Envoy's action name.
func (a *Action) Name() string { return a.name }

// Value returns the action's current value, 0..1.
func (a *Action) Value() float64 { return math.Float64frombits(a.bits.Load()) }

// Saturated reports whether the value is 1: what on/off actions act on.
func (a *Action) Saturated() bool { return a.Value() >= 1 }

// Subscribe calls fn with the current value now and with each new value
// after a change, from the Manager's refresh goroutine; fn must not block.
// The returned func ends the subscription.
func (a *Action) Subscribe(fn func(value float64)) (cancel func()) {
	s := &subscription{fn: fn}
	a.mu.Lock()
	if a.subs == nil {
		a.subs = map[*subscription]struct{}{}
	}
	a.subs[s] = struct{}{}
	fn(a.Value()) // under mu: a concurrent set waits, so fn sees values in order
	a.mu.Unlock()
	return func() {
		a.mu.Lock()
		delete(a.subs, s)
		a.mu.Unlock()
	}
}

// set stores v and tells subscribers when it changed; it reports the change.
func (a *Action) set(v float64) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.Value() == v {
		return false
	}
	a.bits.Store(math.Float64bits(v))
	// Consumers first: once the stats say an action is on, it has acted
	// (a listener has stopped accepting).
	for s := range a.subs {
		s.fn(v)
	}
	if a.active != nil {
		a.scale.Set(int64(math.Round(v * 100)))
		if v >= 1 {
			a.active.Set(1)
		} else {
			a.active.Set(0)
		}
	}
	return true
}
