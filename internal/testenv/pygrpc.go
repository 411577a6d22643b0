package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/internal/poll"
)

// PyGRPC is a group of Python grpcio server processes (bench/grpc/server.py)
// sharing one loopback port with SO_REUSEPORT, each serving one call at a
// time and counting the calls it served: issue 15's story.
type PyGRPC struct {
	t     testing.TB
	port  int
	dir   string
	procs []*proc
}

// PythonGRPC starts n processes holding their lock holdMs per call on one
// free port, and returns once every one of them serves. Needs Debian's
// python3-grpcio (for /usr/bin/python3).
func PythonGRPC(t testing.TB, n int, holdMs float64) *PyGRPC {
	t.Helper()
	py := "/usr/bin/python3"
	if out, err := exec.Command(py, "-c", "import grpc").CombinedOutput(); err != nil {
		t.Fatalf("testenv: %s cannot import grpc (%v: %s): install the Debian package python3-grpcio", py, err, out)
	}
	_, self, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(self), "..", "..", "bench", "grpc", "server.py")
	g := &PyGRPC{t: t, port: FreePort(t), dir: t.TempDir()}
	t.Cleanup(g.kill)
	for i := 0; i < n; i++ {
		log := filepath.Join(g.dir, fmt.Sprintf("server%d.log", i))
		p, err := startProc(procSpec{name: "python grpc server", path: py, logPath: log, args: []string{
			script, "--port", strconv.Itoa(g.port), "--hold-ms", fmt.Sprint(holdMs),
			"--count-file", filepath.Join(g.dir, fmt.Sprintf("count%d", i)),
		}})
		if err != nil {
			t.Fatal(err)
		}
		g.procs = append(g.procs, p)
		err = p.waitReady(30*time.Second, func() error {
			if b, _ := os.ReadFile(log); strings.Contains(string(b), "ready") {
				return nil
			}
			return fmt.Errorf("no ready line in %s", log)
		})
		if err != nil {
			t.Fatalf("testenv: python grpc server %d: %v\n%s", i, err, p.tail(20))
		}
	}
	return g
}

// Addr is the shared host:port.
func (g *PyGRPC) Addr() string { return loopback(g.port) }

// Counts stops every process and returns the calls each served.
func (g *PyGRPC) Counts() []int {
	g.t.Helper()
	out := make([]int, len(g.procs))
	for i, p := range g.procs {
		if err := p.stop(10 * time.Second); err != nil {
			g.t.Fatalf("%v\n%s", err, p.tail(20))
		}
		path := filepath.Join(g.dir, fmt.Sprintf("count%d", i))
		var b []byte
		poll.Until(5*time.Second, func() bool { b, _ = os.ReadFile(path); return len(b) > 0 })
		n, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			g.t.Fatalf("testenv: count of python grpc server %d: %v\n%s", i, err, p.tail(20))
		}
		out[i] = n
	}
	return out
}

func (g *PyGRPC) kill() {
	for _, p := range g.procs {
		if !p.exited() {
			p.kill()
		}
	}
}
