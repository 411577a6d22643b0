package cluster

import (
	"bufio"
	"context"
	"errors"
	"github.com/sluice-proxy/sluice/internal/poll"
	"io"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/stats"
)

// clusterCfg decodes one cluster's YAML the way the loader does (defaults,
// strict fields, Validate) and fails the test on any config error.
func clusterCfg(t testing.TB, src string) config.Cluster {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		t.Fatal(err)
	}
	var c config.Cluster
	errs := &config.Errors{}
	(&config.Decoder{Errs: errs}).Decode("cluster", &n, &c)
	if err := errs.Err(); err != nil {
		t.Fatalf("config: %v", err)
	}
	return c
}

// testManager returns a manager with its own stats store, closed at test end
// with a check that its goroutines are gone.
func testManager(t testing.TB) (*Manager, *stats.Store) {
	t.Helper()
	base := runtime.NumGoroutine()
	st := stats.New()
	m := NewManager(st.Root(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(func() {
		m.Close()
		noLeak(t, base)
	})
	return m, st
}

// noLeak polls until the goroutine count is back to base.
func noLeak(t testing.TB, base int) {
	t.Helper()
	if poll.Until(3*time.Second, func() bool { return runtime.NumGoroutine() <= base }) {
		return
	}
	buf := make([]byte, 1<<16)
	n := runtime.Stack(buf, true)
	t.Errorf("goroutines leaked: %d > %d\n%s", runtime.NumGoroutine(), base, buf[:n])
}

// eventually is poll.Eventually with this package's bound.
func eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	poll.Eventually(t, 5*time.Second, cond, "waiting for %s", what)
}

func counter(st *stats.Store, name string) uint64 { v, _ := st.CounterValue(name); return v }
func gauge(st *stats.Store, name string) int64    { v, _ := st.GaugeValue(name); return v }

// server is a loopback TCP server that can be stopped and restarted on the
// same port; handle serves each connection.
type server struct {
	t      testing.TB
	addr   string
	handle func(net.Conn)
	mu     sync.Mutex
	ln     net.Listener
	wg     sync.WaitGroup
}

func newServer(t testing.TB, handle func(net.Conn)) *server {
	t.Helper()
	s := &server{t: t, addr: "127.0.0.1:0", handle: handle}
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *server) start() {
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		s.t.Fatal(err)
	}
	s.mu.Lock()
	s.ln, s.addr = ln, ln.Addr().String()
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				s.handle(c)
			}()
		}
	}()
}

func (s *server) stop() {
	s.mu.Lock()
	ln := s.ln
	s.ln = nil
	s.mu.Unlock()
	if ln != nil {
		ln.Close()
	}
	s.wg.Wait()
}

// ping answers Redis PINGs with PONG.
func ping(c net.Conn) {
	buf := make([]byte, 512)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return
		}
		if strings.Contains(string(buf[:n]), "PING") {
			io.WriteString(c, "+PONG\r\n")
		}
	}
}

// fakeResolver answers from a map that tests change.
type fakeResolver struct {
	mu    sync.Mutex
	names map[string][]string
}

func (r *fakeResolver) set(name string, addrs ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.names == nil {
		r.names = map[string][]string{}
	}
	r.names[name] = addrs
}

func (r *fakeResolver) LookupHost(_ context.Context, name string) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	a, ok := r.names[name]
	if !ok {
		return nil, errors.New("no such host")
	}
	return append([]string(nil), a...), nil
}

// refusingDialer fails every connect to the addresses in dead.
func refusingDialer(dead ...string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		for _, a := range dead {
			if a == addr {
				return nil, errors.New("connection refused (test)")
			}
		}
		return d.DialContext(ctx, network, addr)
	}
}

func bufioReader(c net.Conn) *bufio.Reader { return bufio.NewReader(c) }
