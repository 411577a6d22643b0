package tcpproxy_test

import (
	"bytes"
	"io"
	"net"
	"runtime"
	"strings"
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
