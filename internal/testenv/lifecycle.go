package testenv

import (
	"sync"
	"testing"
)

// core is what Kill, Stop and Restart need of a server's shared state.
type core interface {
	// state returns the lock that guards the running process, the process
	// slot, and whether the server is external (not ours to break).
	state() (mu *sync.Mutex, p **proc, external bool)
	// start and stop run with the lock held.
	start() error
	stop() error
}

// lifecycle implements Kill, Stop and Restart for a server handle: failure
// injection on a server started by the harness for this test. On an external
// server it skips the test; on a shared one it fails it.
type lifecycle struct {
	t      testing.TB
	shared bool
	kind   string // "PostgresServer", for messages
	ctor   string // "testenv.Postgres(t)", the private variant
	env    string // the SLUICE_TEST_* variable that points at external servers
	c      core
}

func (l lifecycle) mustOwn(what string) {
	l.t.Helper()
	if _, _, external := l.c.state(); external {
		skipExternal(l.t, l.kind+"."+what, l.env)
	}
	if l.shared {
		l.t.Fatalf("testenv: %s.%s on a shared server would break other tests; use %s", l.kind, what, l.ctor)
	}
}

func (l lifecycle) kill() {
	l.t.Helper()
	l.mustOwn("Kill")
	mu, p, _ := l.c.state()
	mu.Lock()
	defer mu.Unlock()
	if *p != nil {
		(*p).kill()
		*p = nil
	}
}

func (l lifecycle) stop() {
	l.t.Helper()
	l.mustOwn("Stop")
	mu, _, _ := l.c.state()
	mu.Lock()
	defer mu.Unlock()
	if err := l.c.stop(); err != nil {
		l.t.Error(err)
	}
}

func (l lifecycle) restart() {
	l.t.Helper()
	l.mustOwn("Restart")
	l.stop()
	mu, _, _ := l.c.state()
	mu.Lock()
	defer mu.Unlock()
	if err := l.c.start(); err != nil {
		l.t.Fatal(err)
	}
}
