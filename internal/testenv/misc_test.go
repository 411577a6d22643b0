package testenv_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/sluice-proxy/sluice/internal/poll"

	"github.com/sluice-proxy/sluice/internal/testenv"
)

func TestZooKeeper(t *testing.T) {
	s := testenv.ZooKeeper(t)
	conn, _, err := zk.Connect([]string{s.Addr()}, 10*time.Second, zk.WithLogInfo(false))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Create("/sluice", []byte("hi"), 0, zk.WorldACL(zk.PermAll)); err != nil {
		t.Fatalf("create: %v", err)
	}
	if got, _, err := conn.Get("/sluice"); err != nil || string(got) != "hi" {
		t.Fatalf("get = %q, %v; want hi", got, err)
	}
	if out, err := s.FourLetter("srvr"); err != nil || !strings.Contains(out, "Mode: standalone") {
		t.Fatalf("srvr = %q, %v; want standalone", out, err)
	}
	s.Kill()
	refused(t, s.Addr())
	s.Restart()
	// The client reconnects by itself; the znode survived in dataDir.
	poll.Eventually(t, 20*time.Second, func() bool {
		got, _, err := conn.Get("/sluice")
		return err == nil && string(got) == "hi"
	}, "znode /sluice readable after Restart")
}

func TestEcho(t *testing.T) {
	s := testenv.Echo(t)
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := bytes.Repeat([]byte("sluice"), 10000)
	go c.Write(msg)
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("echo = %d bytes, %v; want the %d bytes sent", len(got), err, len(msg))
	}
	s.Kill()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(got); err == nil {
		t.Fatal("read after Kill succeeded; want reset or EOF")
	}
	refused(t, s.Addr())
	s.Restart()
	c2, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatalf("dial after Restart: %v", err)
	}
	defer c2.Close()
	c2.Write([]byte("x"))
	if _, err := io.ReadFull(c2, got[:1]); err != nil || got[0] != 'x' {
		t.Fatalf("echo after Restart = %q, %v", got[:1], err)
	}
	if n := s.Accepted(); n != 2 {
		t.Fatalf("Accepted = %d, want 2", n)
	}
}

func TestFreePort(t *testing.T) {
	seen := map[int]bool{}
	for range 50 {
		p := testenv.FreePort(t)
		if seen[p] {
			t.Fatalf("FreePort returned %d twice", p)
		}
		seen[p] = true
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", itoa(p)))
		if err != nil {
			t.Fatalf("port %d not free: %v", p, err)
		}
		ln.Close()
	}
}

// fatalRecorder is a testing.TB whose Fatalf records instead of stopping.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (r *fatalRecorder) Helper()                        {}
func (r *fatalRecorder) Fatalf(format string, a ...any) { r.msg = sprintf(format, a...) }

func TestEventually(t *testing.T) {
	tests := []struct {
		name    string
		trueAt  int32 // call number at which cond turns true; 0: never
		wantErr string
	}{
		{name: "true at once", trueAt: 1},
		{name: "true on 4th poll", trueAt: 4},
		{name: "never", wantErr: "port 7 open (still false after 100ms)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			r := &fatalRecorder{TB: t}
			start := time.Now()
			poll.Eventually(r, 100*time.Millisecond, func() bool {
				return calls.Add(1) == tt.trueAt
			}, "port %d open", 7)
			if tt.wantErr == "" && r.msg != "" {
				t.Fatalf("failed: %s", r.msg)
			}
			if tt.wantErr != "" && !strings.Contains(r.msg, tt.wantErr) {
				t.Fatalf("message = %q, want it to contain %q", r.msg, tt.wantErr)
			}
			if tt.trueAt > 0 && calls.Load() != tt.trueAt {
				t.Fatalf("cond called %d times, want %d", calls.Load(), tt.trueAt)
			}
			if tt.wantErr != "" && time.Since(start) < 100*time.Millisecond {
				t.Fatalf("gave up after %v, before the timeout", time.Since(start))
			}
		})
	}
}

func itoa(n int) string                      { return fmt.Sprint(n) }
func sprintf(format string, a ...any) string { return fmt.Sprintf(format, a...) }

// BenchmarkEchoRoundTrip is the baseline an L4 proxy benchmark compares with:
// one 1 KiB request and its echo on one loopback connection.
func BenchmarkEchoRoundTrip(b *testing.B) {
	s := testenv.Echo(b)
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	msg, got := bytes.Repeat([]byte("x"), 1024), make([]byte, 1024)
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, err := c.Write(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, got); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRedisStart measures what a test pays for a private redis-server:
// start, first PING answered, SIGKILL. Run with -benchtime=20x: each
// iteration leaves a temp dir until the benchmark ends.
func BenchmarkRedisStart(b *testing.B) {
	for b.Loop() {
		testenv.Redis(b).Kill()
	}
}
