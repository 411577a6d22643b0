// Package poll waits for a condition in tests and harnesses: the one poll
// helper, so that no test sleeps for a fixed time or asserts on wall-clock
// time. A timeout only bounds how long a broken condition is waited for.
package poll

import (
	"testing"
	"time"
)

// Until reports whether cond became true within timeout. It checks at once,
// then with a short growing interval (5 ms up to 100 ms).
func Until(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	interval := 5 * time.Millisecond
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(interval) // a poll interval, not a wait for an event
		interval = min(interval*2, 100*time.Millisecond)
	}
}

// Eventually fails t with the formatted message if cond is still false after
// timeout. Arguments of type func() any are evaluated at failure, so the
// message can show the last value seen.
func Eventually(t testing.TB, timeout time.Duration, cond func() bool, format string, args ...any) {
	t.Helper()
	if Until(timeout, cond) {
		return
	}
	for i, a := range args {
		if f, ok := a.(func() any); ok {
			args[i] = f()
		}
	}
	t.Fatalf(format+" (still false after %v)", append(args, timeout)...)
}
