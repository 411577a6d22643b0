package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/internal/testenv"
)

var binary struct {
	once sync.Once
	path string
	err  error
}

// sluiceBinary builds the binary once per test run.
func sluiceBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	binary.once.Do(func() {
		dir, err := os.MkdirTemp("", "sluice-bin")
		if err != nil {
			binary.err = err
			return
		}
		binary.path = filepath.Join(dir, "sluice")
		if out, err := exec.Command("go", "build", "-o", binary.path, ".").CombinedOutput(); err != nil {
			binary.err = fmt.Errorf("build: %v\n%s", err, out)
		}
	})
	if binary.err != nil {
		t.Fatal(binary.err)
	}
	return binary.path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binary.path != "" {
		os.RemoveAll(filepath.Dir(binary.path))
	}
	os.Exit(code)
}

// runningSluice is the binary running a config file.
type runningSluice struct {
	cmd   *exec.Cmd
	logs  *lockedBuffer
	admin string
	file  string
	done  chan error
}

func startBinary(t *testing.T, yaml string, args ...string) *runningSluice {
	t.Helper()
	bin := sluiceBinary(t)
	r := &runningSluice{logs: &lockedBuffer{}, admin: freeAddr(t), file: filepath.Join(t.TempDir(), "sluice.yaml"), done: make(chan error, 1)}
	os.WriteFile(r.file, []byte(strings.ReplaceAll(yaml, "%ADMIN%", r.admin)), 0o644)
	r.cmd = exec.Command(bin, append([]string{"-c", r.file}, args...)...)
	r.cmd.Stderr = r.logs
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.done <- r.cmd.Wait() }()
	t.Cleanup(func() { r.cmd.Process.Kill(); <-r.done })
	waitFor(t, "/ready", func() bool { return get("http://"+r.admin+"/ready") == "LIVE\n" })
	return r
}

// stat returns one stat's line from the admin server ("" when unreachable).
func (r *runningSluice) stat(name string) string {
	for _, l := range strings.Split(get("http://"+r.admin+"/stats?filter="+name), "\n") {
		if strings.HasPrefix(l, name+": ") {
			return l
		}
	}
	return ""
}

// lineConn is a client connection to an echo peer through sluice.
type lineConn struct {
	c net.Conn
	r *bufio.Reader
}

func dialLines(t *testing.T, addr string) *lineConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	lc := &lineConn{c, bufio.NewReader(c)}
	lc.roundTrip(t, "hello")
	return lc
}

func (lc *lineConn) roundTrip(t *testing.T, msg string) {
	t.Helper()
	fmt.Fprintln(lc.c, msg)
	lc.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if l, err := lc.r.ReadString('\n'); err != nil || l != msg+"\n" {
		t.Fatalf("echo of %q: %q %v", msg, l, err)
	}
}

func echoConfig(up string, drain string, listeners ...string) string {
	s := "admin: {address: %ADMIN%}\ndrain_timeout: " + drain + "\nlisteners:\n"
	for i, l := range listeners {
		s += fmt.Sprintf("  - {name: l%d, address: %s, filters: [{tcp_proxy: {stat_prefix: p%d, cluster: c}}]}\n", i, l, i)
	}
	return s + fmt.Sprintf("clusters:\n  - {name: c, endpoints: [%q]}\n", up)
}

// TestBinaryRewriteInPlaceKeepsConnections: the file is truncated and left
// empty (a crashed editor, a half-done deploy): the watcher reads it twice
// and sluice refuses it, its connection and listeners live on. Then it is
// rewritten in place, in two writes, many times while a client stays
// connected: nothing is refused, nothing drained.
func TestBinaryRewriteInPlaceKeepsConnections(t *testing.T) {
	up := testenv.Echo(t).Addr()
	l1, l2 := freeAddr(t), freeAddr(t)
	cfg := func(drain, comment string) string { return echoConfig(up, drain, l1, l2) + comment }
	r := startBinary(t, cfg("1s", ""), "-watch-interval", "20ms")
	c := dialLines(t, l2)

	if err := os.Truncate(r.file, 0); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the empty file refused", func() bool { return r.stat("server.config_reload_failed") == "server.config_reload_failed: 1" })
	if !strings.Contains(r.logs.String(), "would drain all 2 running listeners; set allow_no_listeners: true") {
		t.Fatalf("the refusal's reason is not logged:\n%s", r.logs.String())
	}
	c.roundTrip(t, "after the empty file")

	for i := range 30 {
		drain := "1s"
		if i == 29 {
			drain = "2s" // the last one shows in /config_dump
		}
		content := []byte(strings.Replace(cfg(drain, fmt.Sprintf("# rewrite %d\n", i)), "%ADMIN%", r.admin, 1))
		f, err := os.OpenFile(r.file, os.O_WRONLY|os.O_TRUNC, 0)
		if err != nil {
			t.Fatal(err)
		}
		cut := strings.Index(string(content), "  - {name: l1")
		f.Write(content[:cut])
		f.Write(content[cut:])
		f.Close()
	}
	waitFor(t, "the last rewrite applied", func() bool {
		return strings.Contains(get("http://"+r.admin+"/config_dump"), `"drain_timeout": "2s"`)
	})
	if got := r.stat("listener_manager.listener_removed"); got != "listener_manager.listener_removed: 0" {
		t.Fatalf("%s\n%s", got, r.logs.String())
	}
	if got := r.stat("server.config_reload_failed"); got != "server.config_reload_failed: 1" {
		t.Fatalf("%s\n%s", got, r.logs.String())
	}
	c.roundTrip(t, "after the rewrites")
	dialLines(t, l2).roundTrip(t, "l2 accepts")
}

// TestBinarySecondSignalExits: SIGTERM with a client connected logs how many
// connections it waits for and how long; a second SIGTERM exits at once
// with status 1, long before the 30s drain_timeout.
func TestBinarySecondSignalExits(t *testing.T) {
	up := testenv.Echo(t).Addr()
	l1 := freeAddr(t)
	r := startBinary(t, echoConfig(up, "30s", l1))
	c := dialLines(t, l1)
	r.cmd.Process.Signal(syscall.SIGTERM)
	waitFor(t, "the drain log", func() bool {
		return strings.Contains(r.logs.String(), "open_connections=1 drain_timeout=30s")
	})
	c.roundTrip(t, "while draining")
	select {
	case err := <-r.done:
		t.Fatalf("exited before the second signal: %v\n%s", err, r.logs.String())
	default:
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-r.done:
		r.done <- err // for the cleanup
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
			t.Fatalf("exit after the second signal: %v, want status 1", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no exit after a second SIGTERM:\n%s", r.logs.String())
	}
	if !strings.Contains(r.logs.String(), "second signal: exiting without waiting") || !strings.Contains(r.logs.String(), "open_connections=1") {
		t.Fatalf("logs:\n%s", r.logs.String())
	}
}
