//go:build linux

package ioloop

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/internal/poll"
)

// TestOnDoneRunsOnce: OnDone's callback runs once whether it is set before
// the flow ends or after, and Done is closed by then.
func TestOnDoneRunsOnce(t *testing.T) {
	for _, late := range []bool{false, true} {
		fl := &Flow{done: make(chan struct{})}
		var runs atomic.Int32
		cb := func() {
			select {
			case <-fl.Done():
			default:
				t.Error("callback before Done was closed")
			}
			runs.Add(1)
		}
		if late {
			fl.ended()
			fl.OnDone(cb)
		} else {
			fl.OnDone(cb)
			fl.ended()
		}
		poll.Eventually(t, 5*time.Second, func() bool { return runs.Load() == 1 }, "late %v: callback not run", late)
		if fl.onDone.Load() != nil {
			t.Errorf("late %v: callback kept after running", late)
		}
	}
}

// TestOnDoneRace sets the callback while the flow ends, many times (run
// under -race): it always runs exactly once.
func TestOnDoneRace(t *testing.T) {
	const n = 2000
	var runs atomic.Int32
	for range n {
		fl := &Flow{done: make(chan struct{})}
		go fl.ended()
		fl.OnDone(func() { runs.Add(1) })
	}
	poll.Eventually(t, 10*time.Second, func() bool { return runs.Load() == n }, "callbacks run: want %d", n)
	if got := runs.Load(); got != n {
		t.Fatalf("%d callbacks for %d flows", got, n)
	}
}
