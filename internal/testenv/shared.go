package testenv

import (
	"fmt"
	"os"
	"sync"
	"testing"
)

// owner is what a server's cleanups hang on: one test (t.Cleanup) or the test
// binary (Main).
type owner interface {
	Cleanup(func())
}

// binaryOwner collects cleanups run by Main after all tests.
type binaryOwner struct{}

// Cleanup registers f to run when Main returns, last registered first.
func (binaryOwner) Cleanup(f func()) {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	shared.cleanups = append(shared.cleanups, f)
}

var shared struct {
	mu       sync.Mutex
	inMain   bool
	cleanups []func()
	entries  map[string]*sharedEntry
}

// sharedEntry is one lazily started shared server; err is sticky so every
// caller after a failed start fails the same way.
type sharedEntry struct {
	once sync.Once
	v    any
	err  error
}

// Main runs the package's tests and then stops the shared servers
// (SharedPostgres, SharedMariaDB, SharedZooKeeper). Call it from TestMain:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
//
// Go passes m.Run's result to os.Exit when TestMain returns.
func Main(m *testing.M) {
	shared.mu.Lock()
	shared.inMain = true
	shared.mu.Unlock()
	defer stopShared()
	m.Run()
}

// stopShared runs the binary-scoped cleanups, newest first.
func stopShared() {
	shared.mu.Lock()
	fs := shared.cleanups
	shared.cleanups = nil
	shared.mu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}

// sharedServer returns the server registered under key, starting it with
// start the first time. It fails t when Main is not in use, since nothing
// would stop the server and remove its files.
func sharedServer(t testing.TB, key string, start func(owner) (any, error)) any {
	t.Helper()
	shared.mu.Lock()
	if !shared.inMain {
		shared.mu.Unlock()
		t.Fatalf("testenv: shared %s needs `func TestMain(m *testing.M) { testenv.Main(m) }` in this package", key)
	}
	if shared.entries == nil {
		shared.entries = map[string]*sharedEntry{}
	}
	e := shared.entries[key]
	if e == nil {
		e = &sharedEntry{}
		shared.entries[key] = e
	}
	shared.mu.Unlock()
	e.once.Do(func() { e.v, e.err = start(binaryOwner{}) })
	if e.err != nil {
		t.Fatalf("testenv: shared %s: %v", key, e.err)
	}
	return e.v
}

// tempDir makes a private directory removed by o. It is not t.TempDir: shared
// servers outlive a test, unix sockets need short paths, and postgres must be
// able to reach it when the tests run as root.
func tempDir(o owner, name string) (string, error) {
	dir, err := os.MkdirTemp("", "sluice-"+name+"-")
	if err != nil {
		return "", fmt.Errorf("testenv: temp dir: %w", err)
	}
	o.Cleanup(func() { os.RemoveAll(dir) })
	return dir, nil
}
