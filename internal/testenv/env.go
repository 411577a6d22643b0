package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Environment variables naming external servers; when one is set the matching
// helper returns a handle to that server instead of starting one.
const (
	// EnvRedisAddr is host:port of an external redis-server.
	EnvRedisAddr = "SLUICE_TEST_REDIS_ADDR"
	// EnvPostgresDSN is a postgres:// URL of an external superuser.
	EnvPostgresDSN = "SLUICE_TEST_POSTGRES_DSN"
	// EnvMySQLDSN is a go-sql-driver/mysql DSN of an external MariaDB/MySQL.
	EnvMySQLDSN = "SLUICE_TEST_MYSQL_DSN"
	// EnvZooKeeperAddr is host:port of an external ZooKeeper.
	EnvZooKeeperAddr = "SLUICE_TEST_ZOOKEEPER_ADDR"
)

// startTimeout bounds how long a server may take to answer after its start.
const startTimeout = 60 * time.Second

var ports struct {
	mu   sync.Mutex
	used map[int]bool
}

// FreePort returns a loopback TCP port that was free a moment ago and has not
// been returned before in this test binary. Another process may still take
// it before the caller binds; the server helpers retry on a new port then.
func FreePort(t testing.TB) int {
	t.Helper()
	p, err := freePort()
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	return p
}

func freePort() (int, error) {
	ports.mu.Lock()
	defer ports.mu.Unlock()
	if ports.used == nil {
		ports.used = map[int]bool{}
	}
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("free port: %w", err)
		}
		p := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !ports.used[p] {
			ports.used[p] = true
			return p, nil
		}
	}
	return 0, fmt.Errorf("free port: no new port in 100 tries")
}

// withFreePort calls start with a fresh port, and again with another one (up
// to three tries) when the server's log says the port was taken meanwhile.
func withFreePort(logPath string, start func(port int) error) error {
	for attempt := 0; ; attempt++ {
		port, err := freePort()
		if err != nil {
			return err
		}
		err = start(port)
		if err == nil || attempt == 2 || !strings.Contains(logTail(logPath, 30), "Address already in use") {
			return err
		}
	}
}

// lookBin finds a server binary in PATH or in one of dirs; the error names
// the Debian package that provides it.
func lookBin(name, pkg string, dirs ...string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("testenv: %s not found in PATH or %v: install the Debian package %s "+
		"(apt-get install -y %s, or run .ci/run as root)", name, dirs, pkg, pkg)
}

// dialable reports whether a TCP connection to addr succeeds.
func dialable(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	return c.Close()
}

// addr joins the loopback address and port.
func loopback(port int) string {
	return net.JoinHostPort("127.0.0.1", fmt.Sprint(port))
}

// skipExternal skips the test: failure injection on a server we do not own.
func skipExternal(t testing.TB, what, env string) {
	t.Helper()
	t.Skipf("testenv: %s needs a server started by the harness; %s points at an external one", what, env)
}
