package main

import (
	"fmt"
	"github.com/sluice-proxy/sluice/internal/poll"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	poll.Eventually(t, 10*time.Second, cond, "waiting for %s", what)
}

func get(url string) string {
	resp, err := http.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestBinaryReloadAndSignals runs the real binary: the config file changing
// adds a listener, SIGHUP with a bad file keeps the old config serving, and
// SIGTERM drains and exits 0.
func TestBinaryReloadAndSignals(t *testing.T) {
	bin := sluiceBinary(t)
	dir := t.TempDir()
	up := hiServer(t)
	admin, l1, l2 := freeAddr(t), freeAddr(t), freeAddr(t)
	cfg := func(listeners ...string) string {
		s := fmt.Sprintf("admin: {address: %s}\ndrain_timeout: 2s\nlisteners:\n", admin)
		for i, l := range listeners {
			s += fmt.Sprintf("  - {name: l%d, address: %s, filters: [{tcp_proxy: {stat_prefix: p%d, cluster: c}}]}\n", i, l, i)
		}
		return s + fmt.Sprintf("clusters:\n  - {name: c, endpoints: [%q]}\n", up.Addr().String())
	}
	file := filepath.Join(dir, "sluice.yaml")
	os.WriteFile(file, []byte(cfg(l1)), 0o644)
	cmd := exec.Command(bin, "-c", file, "-watch-interval", "100ms", "--concurrency", "1")
	var logs lockedBuffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	waitFor(t, "/ready", func() bool { return get("http://"+admin+"/ready") == "LIVE\n" })
	waitFor(t, "the start log with concurrency=1", func() bool { return strings.Contains(logs.String(), "concurrency=1") })

	os.WriteFile(file, []byte(cfg(l1, l2)), 0o644)
	waitFor(t, "the new listener", func() bool { return strings.Contains(get("http://"+admin+"/listeners"), l2) })

	os.WriteFile(file, []byte(cfg(l1, l2)+"bogus: 1\n"), 0o644)
	cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "config_reload_failed", func() bool {
		return strings.Contains(get("http://"+admin+"/stats?filter=config_reload_failed"), "server.config_reload_failed: ")
	})
	waitFor(t, "a counted failure", func() bool {
		return !strings.Contains(get("http://"+admin+"/stats?filter=config_reload_failed"), ": 0")
	})
	c, err := net.Dial("tcp", l2)
	if err != nil {
		t.Fatalf("after a bad reload the listener is gone: %v", err)
	}
	b, _ := io.ReadAll(c)
	c.Close()
	if string(b) != "hi" {
		t.Fatalf("through the proxy: %q", b)
	}

	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, logs.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no exit after SIGTERM")
	}
	if !strings.Contains(logs.String(), "bogus: unknown field") {
		t.Errorf("the refused reload was not logged with its reason:\n%s", logs.String())
	}
}

// lockedBuffer collects a child's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// hiServer is an upstream that writes "hi" to each connection and closes it;
// it stops at test end.
func hiServer(t *testing.T) net.Listener {
	t.Helper()
	up, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { up.Close() })
	go func() {
		for {
			c, err := up.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("hi"))
			c.Close()
		}
	}()
	return up
}
