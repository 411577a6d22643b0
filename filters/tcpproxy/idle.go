package tcpproxy

import (
	"sync"
	"time"
)

// idleWatcher fires when activity() has not changed for the idle timeout. It
// samples every timeout/8, so it costs nothing per byte and fires between
// 1x and 1.125x the timeout after the last byte.
type idleWatcher struct {
	mu         sync.Mutex
	timer      *time.Timer
	timeout    time.Duration
	step       time.Duration
	activity   func() uint64
	last       uint64
	lastChange time.Time
	fire       func()
	stopped    bool
}

func newIdleWatcher(timeout time.Duration, activity func() uint64, fire func()) *idleWatcher {
	w := &idleWatcher{timeout: timeout, step: max(timeout/8, time.Millisecond), activity: activity,
		fire: fire, last: activity(), lastChange: time.Now()}
	w.mu.Lock() // check may run before AfterFunc returns
	w.timer = time.AfterFunc(w.step, w.check)
	w.mu.Unlock()
	return w
}

func (w *idleWatcher) check() {
	w.mu.Lock()
	if w.stopped {
		w.mu.Unlock()
		return
	}
	now := time.Now()
	if a := w.activity(); a != w.last {
		w.last, w.lastChange = a, now
	}
	if now.Sub(w.lastChange) >= w.timeout {
		w.stopped = true
		w.mu.Unlock()
		w.fire()
		return
	}
	w.timer.Reset(min(w.step, w.timeout-now.Sub(w.lastChange)))
	w.mu.Unlock()
}

func (w *idleWatcher) stop() {
	w.mu.Lock()
	w.stopped = true
	w.timer.Stop()
	w.mu.Unlock()
}
