package tcpproxy

import (
	"sync"
	"time"
)

// idleWatcher ends its pipe when the pipe's activity() has not changed for
// the idle timeout. It samples every timeout/8, so it costs nothing per
// byte and fires between 1x and 1.125x the timeout after the last byte. It
// lives inside the pipe and calls it directly: no allocations per
// connection beyond its timer.
type idleWatcher struct {
	mu         sync.Mutex
	timer      *time.Timer
	timeout    time.Duration
	step       time.Duration
	pp         *pipe
	last       uint64
	lastChange time.Time
	stopped    bool
}

// start arms the watcher for pp.
func (w *idleWatcher) start(pp *pipe, timeout time.Duration) {
	w.pp, w.timeout, w.step = pp, timeout, max(timeout/8, time.Millisecond)
	w.last, w.lastChange = pp.activity(), time.Now()
	w.mu.Lock() // check may run before AfterFunc returns
	w.timer = time.AfterFunc(w.step, w.check)
	w.mu.Unlock()
}

func (w *idleWatcher) check() {
	w.mu.Lock()
	if w.stopped {
		w.mu.Unlock()
		return
	}
	now := time.Now()
	if a := w.pp.activity(); a != w.last {
		w.last, w.lastChange = a, now
	}
	if now.Sub(w.lastChange) >= w.timeout {
		w.stopped = true
		w.mu.Unlock()
		w.pp.proxy.stats.IdleTimeout.Inc()
		w.pp.abort("idle_timeout")
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
