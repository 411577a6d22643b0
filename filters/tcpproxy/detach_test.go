package tcpproxy_test

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/internal/poll"
)

// TestIdleLoopConnectionsHoldNoGoroutine: a connection an event loop moves
// keeps no goroutine of sluice's while it is idle (tcp_proxy detaches from
// the server's connection goroutine; issue 20: memory per idle
// connection), and still ends as before: the client's close reaches the
// upstream and the listener's and cluster's gauges and counters settle.
func TestIdleLoopConnectionsHoldNoGoroutine(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("event loops are Linux only")
	}
	const n = 100
	up := startUpstream(t, echo)
	m := &ioMode{loops: -1}
	s := m.start(t, proxyConfig(`"`+up.addr()+`"`, "", ""))
	st := "listener.127.0.0.1_" + s.Addr("l")[strings.LastIndexByte(s.Addr("l"), ':')+1:]
	clients := make([]net.Conn, n)
	for i := range clients {
		c, err := net.Dial("tcp", s.Addr("l"))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		clients[i] = c
		c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.Write([]byte("ping")); err != nil {
			t.Fatal(err)
		}
		var b [4]byte
		if _, err := io.ReadFull(c, b[:]); err != nil || string(b[:]) != "ping" {
			t.Fatalf("echo %d: %q, %v", i, b, err)
		}
	}
	if got := m.flowsStarted(); got < n {
		t.Fatalf("%d of %d connections on an event loop", got, n)
	}
	poll.Eventually(t, 10*time.Second, func() bool { return connGoroutines() == 0 },
		"goroutines still serving %d idle loop connections", n)
	if got := s.Gauge(st + ".downstream_cx_active"); got != n {
		t.Fatalf("downstream_cx_active %d with %d idle connections", got, n)
	}
	for _, c := range clients {
		c.Close()
	}
	s.WaitGauge(st+".downstream_cx_active", 0, 10*time.Second)
	s.WaitCounter(st+".downstream_cx_destroy", n, 10*time.Second)
	s.WaitGauge("cluster.c.upstream_cx_active", 0, 10*time.Second)
	s.WaitCounter("tcp.t.downstream_cx_total", n, 10*time.Second)
}

// connGoroutines counts the goroutines in the server's connection path or
// tcp_proxy's pipe.
func connGoroutines() int {
	buf := make([]byte, 1<<22)
	buf = buf[:runtime.Stack(buf, true)]
	k := 0
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		if bytes.Contains(g, []byte("proxy.(*listener).serve")) || bytes.Contains(g, []byte("tcpproxy.(*pipe)")) {
			k++
		}
	}
	return k
}

// TestDetachedChurn opens and ends connections on the event loops from
// several clients at once, ending them every way (close after an exchange,
// reset after an exchange, half-close and wait for the upstream's EOF,
// reset before any byte): each connection is finished exactly once, so the
// access log has one line per connection and the listener's counters and
// gauges settle; the package's goleak check then finds no goroutine left.
func TestDetachedChurn(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("event loops are Linux only")
	}
	const workers, each = 4, 60
	up := startUpstream(t, echo)
	logPath := filepath.Join(t.TempDir(), "access.log")
	m := &ioMode{loops: -1}
	s := m.start(t, fmt.Sprintf(`
listeners:
  - name: l
    address: 127.0.0.1:0
    access_log: {path: %s}
    filters:
      - tcp_proxy: {stat_prefix: t, cluster: c}
clusters:
  - {name: c, connect_timeout: 1s, endpoints: ["%s"]}
`, logPath, up.addr()))
	st := "listener.127.0.0.1_" + s.Addr("l")[strings.LastIndexByte(s.Addr("l"), ':')+1:]
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := churnOne(s.Addr("l"), (w+i)%4); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	const total = workers * each
	s.WaitCounter(st+".downstream_cx_destroy", total, 20*time.Second)
	s.WaitGauge(st+".downstream_cx_active", 0, 20*time.Second)
	s.WaitGauge("cluster.c.upstream_cx_active", 0, 20*time.Second)
	lines := func() int {
		b, _ := os.ReadFile(logPath)
		return bytes.Count(b, []byte("\n"))
	}
	poll.Eventually(t, 20*time.Second, func() bool { return lines() >= total }, "access log lines: want %d", total)
	if got := lines(); got != total {
		t.Fatalf("%d access log lines for %d connections", got, total)
	}
	if got := m.flowsStarted(); got == 0 {
		t.Fatal("no connection went through an event loop")
	}
}

// churnOne makes one connection and ends it the way kind says.
func churnOne(addr string, kind int) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	tc := c.(*net.TCPConn)
	defer tc.Close()
	tc.SetDeadline(time.Now().Add(10 * time.Second))
	if kind == 3 { // reset before any byte: the flow may not even have started
		tc.SetLinger(0)
		return nil
	}
	if _, err := tc.Write([]byte("ping")); err != nil {
		return err
	}
	var b [4]byte
	if _, err := io.ReadFull(tc, b[:]); err != nil {
		return fmt.Errorf("echo: %w", err)
	}
	switch kind {
	case 1:
		tc.SetLinger(0)
	case 2:
		tc.CloseWrite()
		if n, err := tc.Read(b[:]); n != 0 || err != io.EOF {
			return fmt.Errorf("after half-close: %d bytes, %v; want EOF", n, err)
		}
	}
	return nil
}
