package main

import (
	"context"
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

// TestBinaryHotRestarter runs "sluice hot-restarter" as systemd would: SIGHUP
// hot restarts the child while short connections loop and a long one stays
// open (nothing fails; the old epoch exits once the long one closes), and
// SIGTERM stops the new epoch through a drain, after which the restarter
// exits 0.
func TestBinaryHotRestarter(t *testing.T) {
	up := testenv.Echo(t).Addr()
	l1 := freeAddr(t)
	dir := t.TempDir()
	r := &runningSluice{logs: &lockedBuffer{}, admin: freeAddr(t), file: filepath.Join(dir, "sluice.yaml"), done: make(chan error, 1)}
	os.WriteFile(r.file, []byte(strings.ReplaceAll(echoConfig(up, "30s", l1), "%ADMIN%", r.admin)), 0o644)
	r.cmd = exec.Command(sluiceBinary(t), "hot-restarter", "-base-id", "3", "--", "-c", r.file, "-socket-path", filepath.Join(dir, "hr"))
	r.cmd.Stderr = r.logs
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // the cleanup kills the epochs too
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.done <- r.cmd.Wait() }()
	t.Cleanup(func() {
		syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL)
		<-r.done
		if t.Failed() {
			t.Logf("logs:\n%s", r.logs.String())
		}
	})
	waitFor(t, "epoch 0 ready", func() bool { return get("http://"+r.admin+"/ready") == "LIVE\n" })
	long := dialLines(t, l1)

	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	short := &load{name: "short"}
	short.run(ctx, &wg, 2, func() error { return tcpShort(l1) })
	progress := func(what string) {
		t.Helper()
		base := short.ok.Load()
		waitFor(t, what, func() bool { return short.ok.Load() >= base+50 })
	}
	progress("connections through epoch 0")
	r.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "epoch 1 taking over", func() bool {
		return strings.Contains(r.logs.String(), "started epoch 1") && strings.Contains(r.logs.String(), "hot restart: draining and exiting")
	})
	progress("connections through epoch 1")
	long.roundTrip(t, "on epoch 0 while it drains")
	long.c.Close()
	waitFor(t, "epoch 0 exiting once its connection closed", func() bool {
		return strings.Contains(r.logs.String(), "epoch 0 exited: status 0")
	})
	waitFor(t, "epoch 1's admin", func() bool { return get("http://"+r.admin+"/ready") == "LIVE\n" })
	stop()
	wg.Wait()
	if short.fail.Load() != 0 {
		t.Fatalf("%d of %d short connections failed: %v", short.fail.Load(), short.ok.Load()+short.fail.Load(), short.errs)
	}

	r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-r.done:
		r.done <- err
		if err != nil {
			t.Fatalf("hot-restarter: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("hot-restarter did not exit after SIGTERM")
	}
	for _, l := range strings.Split(r.logs.String(), "\n") {
		if strings.HasPrefix(l, "sluice hot-restarter:") {
			t.Log(l)
		}
	}
	t.Logf("%d short connections, none failed", short.ok.Load())
	if !strings.Contains(r.logs.String(), "epoch 1 exited: status 0") {
		t.Fatalf("epoch 1 did not drain and exit 0")
	}
}
