package tcpproxy_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/proxy"
)

func proxyConfig(upstreams string, tcpExtra string, chainPrefix string) string {
	return fmt.Sprintf(`
listeners:
  - name: l
    address: 127.0.0.1:0
    filters:
%s      - tcp_proxy: {stat_prefix: t, cluster: c %s}
clusters:
  - name: c
    connect_timeout: 1s
    endpoints: [%s]
`, chainPrefix, tcpExtra, upstreams)
}

// dialProxy starts sluice with proxyConfig(upstreams, tcpExtra, chain) and
// connects a client to it; the client is closed at test end.
func dialProxy(t *testing.T, m *ioMode, upstreams, tcpExtra, chain string) (*sluicetest.Sluice, net.Conn) {
	t.Helper()
	s := m.start(t, proxyConfig(upstreams, tcpExtra, chain))
	c, err := net.Dial("tcp", s.Addr("l"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return s, c
}

// TestLargePayloadBothWays sends a large random stream through tcp_proxy to
// an echo server and checks both directions' checksums, over the splice path
// (no observer) and the user-space path (an observer taps the bytes).
func TestLargePayloadBothWays(t *testing.T) { forEachIOMode(t, testLargePayloadBothWays) }

func testLargePayloadBothWays(t *testing.T, m *ioMode) {
	for _, tc := range []struct{ name, chain string }{
		{"splice", ""},
		{"tapped", "      - test_byte_counter: {}\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := startUpstream(t, echo)
			s, c := dialProxy(t, m, `"`+up.addr()+`"`, "", tc.chain)
			t.Cleanup(func() {
				// With loops, a tapless bulk flow goes back to splicing;
				// a tapped one stays in its loop.
				back := s.Server.Loops() != nil && s.Server.Loops().BulkBack() > 0
				if want := tc.chain == "" && m.loops != 0 && runtime.GOOS == "linux"; back != want {
					t.Errorf("flow given back to the splice path: %v, want %v", back, want)
				}
			})
			size := int64(largePayload)
			sent := sha256.New()
			errc := make(chan error, 1)
			go func() {
				src := io.TeeReader(io.LimitReader(newRandReader(1), size), sent)
				_, err := io.Copy(c, src)
				if err == nil {
					err = c.(*net.TCPConn).CloseWrite()
				}
				errc <- err
			}()
			got := sha256.New()
			n, err := io.Copy(got, c)
			if err != nil {
				t.Fatal(err)
			}
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			if n != size {
				t.Fatalf("echoed %d bytes, sent %d", n, size)
			}
			if !bytes.Equal(sent.Sum(nil), got.Sum(nil)) {
				t.Fatal("checksum of the echoed stream differs from what was sent")
			}
			s.WaitCounter("tcp.t.downstream_cx_rx_bytes_total", uint64(size), 5*time.Second)
			s.WaitCounter("tcp.t.downstream_cx_tx_bytes_total", uint64(size), 5*time.Second)
			s.WaitCounter("cluster.c.upstream_cx_tx_bytes_total", uint64(size), 5*time.Second)
			s.WaitCounter("cluster.c.upstream_cx_rx_bytes_total", uint64(size), 5*time.Second)
			if tc.chain != "" {
				n := lastCounts.Load()
				if n.in.Load() != size || n.out.Load() != size {
					t.Fatalf("observer saw %d in, %d out; want %d both", n.in.Load(), n.out.Load(), size)
				}
			}
		})
	}
}

// randReader is a fast deterministic byte stream.
type randReader struct{ r *rand.ChaCha8 }

func newRandReader(seed byte) *randReader {
	var s [32]byte
	s[0] = seed
	return &randReader{rand.NewChaCha8(s)}
}

func (r *randReader) Read(p []byte) (int, error) { return r.r.Read(p) }

// TestHalfClose: the client finishes sending; the upstream still answers
// after seeing EOF, and the answer reaches the client.
func TestHalfClose(t *testing.T) { forEachIOMode(t, testHalfClose) }

func testHalfClose(t *testing.T, m *ioMode) {
	up := startUpstream(t, func(c *net.TCPConn) {
		b, _ := io.ReadAll(c)
		fmt.Fprintf(c, "got %d bytes", len(b))
		c.CloseWrite()
	})
	_, c := dialProxy(t, m, `"`+up.addr()+`"`, "", "")
	c.Write([]byte(strings.Repeat("x", 1000)))
	c.(*net.TCPConn).CloseWrite()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "got 1000 bytes" {
		t.Fatalf("reply %q", b)
	}
}

func TestIdleTimeout(t *testing.T) { forEachIOMode(t, testIdleTimeout) }

func testIdleTimeout(t *testing.T, m *ioMode) {
	const timeout = 300 * time.Millisecond
	up := startUpstream(t, echo)
	s, c := dialProxy(t, m, `"`+up.addr()+`"`, ", idle_timeout: 300ms", "")
	// Traffic keeps it open for several timeouts: back-to-back exchanges,
	// so no gap between them comes near the timeout however slow the host.
	r := bufio.NewReader(c)
	for first := time.Now(); time.Since(first) < 4*timeout; {
		fmt.Fprintf(c, "ping\n")
		if l, err := r.ReadString('\n'); err != nil || l != "ping\n" {
			t.Fatalf("echo after %v: %q %v", time.Since(first), l, err)
		}
	}
	if n := s.Counter("tcp.t.idle_timeout"); n != 0 {
		t.Fatalf("idle_timeout = %d while traffic flowed", n)
	}
	// ...silence closes it.
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := r.ReadByte(); err != io.EOF {
		t.Fatalf("want EOF after idle timeout, got %v", err)
	}
	s.WaitCounter("tcp.t.idle_timeout", 1, 2*time.Second)
}

func TestConnectFailureClosesClient(t *testing.T) {
	s, c := dialProxy(t, &ioMode{loops: -1}, `"`+deadAddr(t)+`"`, ", max_connect_attempts: 3", "")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("want the client closed, got %v", err)
	}
	s.WaitCounter("cluster.c.upstream_cx_connect_fail", 3, 2*time.Second)
	s.WaitCounter("cluster.c.upstream_cx_connect_attempts_exceeded", 1, 2*time.Second)
	if v := s.Gauge("cluster.c.upstream_cx_active"); v != 0 {
		t.Fatalf("upstream_cx_active = %d", v)
	}
}

func TestMaxDownstreamConnectionDuration(t *testing.T) {
	forEachIOMode(t, testMaxDownstreamConnectionDuration)
}

func testMaxDownstreamConnectionDuration(t *testing.T, m *ioMode) {
	up := startUpstream(t, echo)
	s, c := dialProxy(t, m, `"`+up.addr()+`"`, ", max_downstream_connection_duration: 200ms", "")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("want EOF, got %v", err)
	}
	s.WaitCounter("tcp.t.max_downstream_connection_duration", 1, 2*time.Second)
}

func TestWeightedClusters(t *testing.T) {
	named := func(name string) func(c *net.TCPConn) {
		return func(c *net.TCPConn) { c.Write([]byte(name)) }
	}
	a, b := startUpstream(t, named("a")), startUpstream(t, named("b"))
	s := sluicetest.Start(t, fmt.Sprintf(`
listeners:
  - name: l
    address: 127.0.0.1:0
    filters:
      - tcp_proxy:
          stat_prefix: w
          weighted_clusters:
            clusters: [{name: a, weight: 1}, {name: b, weight: 3}]
clusters:
  - {name: a, endpoints: ["%s"]}
  - {name: b, endpoints: ["%s"]}
`, a.addr(), b.addr()))
	const n = 400
	got := map[string]int{}
	for i := 0; i < n; i++ {
		c, err := net.Dial("tcp", s.Addr("l"))
		if err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		bs, _ := io.ReadAll(c)
		c.Close()
		got[string(bs)]++
	}
	// Expect 100:300; the binomial standard deviation is ~8.7.
	if got["a"] < 60 || got["a"] > 140 || got["a"]+got["b"] != n {
		t.Fatalf("split %v, want about a=100 b=300", got)
	}
	t.Logf("weighted split over %d connections: %v", n, got)
}

// TestBackpressure: an upstream that never reads must stop the client's
// writes instead of making sluice buffer without bound.
func TestBackpressure(t *testing.T) { forEachIOMode(t, testBackpressure) }

func testBackpressure(t *testing.T, m *ioMode) {
	block := make(chan struct{})
	up := startUpstream(t, func(c *net.TCPConn) { <-block })
	defer close(block)
	for _, chain := range []string{"", "      - test_byte_counter: {}\n"} {
		s := m.start(t, proxyConfig(`"`+up.addr()+`"`, "", chain))
		c, err := net.Dial("tcp", s.Addr("l"))
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 1<<20)
		var written int64
		c.SetWriteDeadline(time.Now().Add(2 * time.Second))
		for {
			n, err := c.Write(buf)
			written += int64(n)
			if err != nil {
				break
			}
			if written > 256<<20 {
				t.Fatalf("wrote %d MiB into a proxy whose upstream never reads", written>>20)
			}
		}
		// Kernel socket buffers on both sides account for the bulk; sluice
		// itself holds at most one read's worth per direction (32 KiB on
		// the goroutine path, 64 KiB in an event loop).
		if b := s.Gauge("tcp.t.downstream_cx_rx_bytes_buffered"); b < 0 || b > 64<<10 {
			t.Errorf("sluice buffers %d bytes for the blocked upstream", b)
		}
		c.Close()
		t.Logf("chain %q: %d KiB accepted before the writer blocked, %d bytes held by sluice", strings.TrimSpace(chain), written>>10, s.Gauge("tcp.t.downstream_cx_rx_bytes_buffered"))
	}
}

// TestClientResetClosesUpstream: a client that resets its connection while
// the upstream is silent must not leave the upstream connection open.
func TestClientResetClosesUpstream(t *testing.T) { forEachIOMode(t, testClientResetClosesUpstream) }

func testClientResetClosesUpstream(t *testing.T, m *ioMode) {
	closed := make(chan struct{})
	up := startUpstream(t, func(c *net.TCPConn) {
		io.Copy(io.Discard, c) // returns when sluice closes or resets it
		close(closed)
	})
	s := m.start(t, proxyConfig(`"`+up.addr()+`"`, "", ""))
	c, err := net.Dial("tcp", s.Addr("l"))
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("x"))
	s.WaitGauge("cluster.c.upstream_cx_active", 1, 5*time.Second)
	c.(*net.TCPConn).SetLinger(0) // close with RST
	c.Close()
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Fatal("upstream connection still open 5s after the client reset")
	}
	s.WaitGauge("cluster.c.upstream_cx_active", 0, 5*time.Second)
}

// ioMode is how the servers of one run of a test move bytes: by their
// event loops or by a goroutine per direction. It is passed to the test, not
// set in a package variable, so tests and their modes can run in parallel.
type ioMode struct {
	loops   int
	mu      sync.Mutex
	servers []*sluicetest.Sluice
}

// start starts sluice with the mode's loops.
func (m *ioMode) start(t testing.TB, yaml string) *sluicetest.Sluice {
	t.Helper()
	s := sluicetest.StartWith(t, yaml, proxy.IOLoops(m.loops), testFilters())
	m.mu.Lock()
	m.servers = append(m.servers, s)
	m.mu.Unlock()
	return s
}

// flowsStarted counts the connections the mode's servers gave to a loop.
func (m *ioMode) flowsStarted() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n uint64
	for _, s := range m.servers {
		if g := s.Server.Loops(); g != nil {
			n += g.Started()
		}
	}
	return n
}

// forEachIOMode runs a test with the bytes moved by the event loops and by a
// goroutine per direction, and checks that each mode was the one used.
func forEachIOMode(t *testing.T, test func(t *testing.T, m *ioMode)) {
	for _, mode := range []struct {
		name  string
		loops int
	}{{"loops", -1}, {"goroutines", 0}} {
		t.Run(mode.name, func(t *testing.T) {
			m := &ioMode{loops: mode.loops}
			test(t, m)
			used := m.flowsStarted() > 0
			if m.loops != 0 && !used && runtime.GOOS == "linux" {
				t.Fatal("no connection went through an event loop")
			}
			if m.loops == 0 && used {
				t.Fatal("a connection went through an event loop with loops off")
			}
		})
	}
}

// TestHalfCloseUpstreamFirst: the upstream finishes sending first and keeps
// reading; the client, after the upstream's EOF, still sends, then
// finishes. The upstream gets those bytes and then its EOF (on the loops,
// the client's EOF ends the flow: the close carries the FIN).
func TestHalfCloseUpstreamFirst(t *testing.T) { forEachIOMode(t, testHalfCloseUpstreamFirst) }

func testHalfCloseUpstreamFirst(t *testing.T, m *ioMode) {
	got := make(chan string, 1)
	up := startUpstream(t, func(c *net.TCPConn) {
		c.Write([]byte("hello"))
		c.CloseWrite()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		b, err := io.ReadAll(c)
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		got <- string(b)
	})
	_, c := dialProxy(t, m, `"`+up.addr()+`"`, "", "")
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if b, err := io.ReadAll(c); err != nil || string(b) != "hello" {
		t.Fatalf("from upstream: %q, %v", b, err)
	}
	c.Write([]byte("bye"))
	c.(*net.TCPConn).CloseWrite()
	if g := <-got; g != "bye" {
		t.Fatalf("the upstream read %q, want \"bye\" and EOF", g)
	}
}
