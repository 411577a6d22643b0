package proxy_test

import (
	"bufio"
	"fmt"
	"github.com/sluice-proxy/sluice/internal/poll"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/overload"
)

// heapOverloadYAML is one tcp_proxy listener to up with action triggered by
// a fixed_heap monitor at pressure 0.5 of maxHeap.
func heapOverloadYAML(up, action string, maxHeap uint64) string {
	return fmt.Sprintf(`
listeners:
  - name: l
    address: 127.0.0.1:0
    filters: [{tcp_proxy: {stat_prefix: t, cluster: c}}]
clusters:
  - {name: c, endpoints: ["%s"]}
overload_manager:
  refresh_interval: 20ms
  resource_monitors:
    - name: envoy.resource_monitors.fixed_heap
      typed_config: {max_heap_size_bytes: %d}
  actions:
    - name: %s
      triggers: [{name: envoy.resource_monitors.fixed_heap, threshold: {value: 0.5}}]
`, up, maxHeap, action)
}

// ballastSize is what a test allocates to push heap pressure over 0.5 of a
// max_heap_size_bytes of twice the measured heap plus ballastSize*2/3.
const ballastSize = 96 << 20

// heapLimit returns a max_heap_size_bytes whose half lies ballastSize/3
// below what the heap will hold with the ballast.
func heapLimit(t *testing.T) uint64 {
	runtime.GC()
	base, err := overload.HeapInUse()
	if err != nil {
		t.Fatal(err)
	}
	return 2 * (base + ballastSize*2/3)
}

// acceptQueue returns how many connections wait in the accept queue of the
// loopback listening socket on port (the LISTEN entry's rx_queue in
// /proc/net/tcp).
func acceptQueue(t *testing.T, port int) int {
	b, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		t.Skipf("no /proc/net/tcp: %v", err)
	}
	want := fmt.Sprintf("0100007F:%04X", port)
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) > 4 && f[1] == want && f[3] == "0A" {
			_, rx, _ := strings.Cut(f[4], ":")
			n, _ := strconv.ParseInt(rx, 16, 64)
			return int(n)
		}
	}
	t.Fatalf("no listening socket on port %d", port)
	return 0
}

// TestOverloadStopAcceptingConnections: with the heap over the threshold,
// the listener stops accepting (a client waits in the kernel's accept queue
// and is not served); once the heap falls back, that same client is
// accepted and served. The action's and monitor's stats follow.
func TestOverloadStopAcceptingConnections(t *testing.T) {
	up := serve(t, echo)
	s := startSluice(t, heapOverloadYAML(up, "envoy.overload_actions.stop_accepting_connections", heapLimit(t)))
	const active = "overload.envoy.overload_actions.stop_accepting_connections.active"
	const pressure = "overload.envoy.resource_monitors.fixed_heap.pressure"
	addr := s.Addr("l")
	cxTotal := "listener." + strings.ReplaceAll(addr, ":", "_") + ".downstream_cx_total"
	if got := s.Gauge(active); got != 0 {
		t.Fatalf("%s = %d before any pressure", active, got)
	}
	ballast := make([]byte, ballastSize)
	s.WaitGauge(active, 1, 10*time.Second)
	if p := s.Gauge(pressure); p < 50 {
		t.Fatalf("%s = %d with the action saturated", pressure, p)
	}
	if got := s.Gauge("overload.envoy.overload_actions.stop_accepting_connections.scale_percent"); got != 100 {
		t.Fatalf("scale_percent = %d", got)
	}

	c, err := net.Dial("tcp", addr) // the kernel completes the handshake
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	port := c.RemoteAddr().(*net.TCPAddr).Port
	poll.Eventually(t, 5*time.Second, func() bool { return acceptQueue(t, port) == 1 },
		"the client is not waiting in the accept queue")
	fmt.Fprintln(c, "ping")
	c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if n, err := c.Read(make([]byte, 8)); n != 0 || !isTimeout(err) {
		t.Fatalf("a client was served while accepting was stopped: %d bytes, %v", n, err)
	}
	if got := s.Counter(cxTotal); got != 0 {
		t.Fatalf("%s = %d while accepting was stopped", cxTotal, got)
	}

	runtime.KeepAlive(ballast)
	ballast = nil
	runtime.GC()
	s.WaitGauge(active, 0, 10*time.Second)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || line != "ping\n" {
		t.Fatalf("after the pressure fell: %q, %v", line, err)
	}
	if got := s.Counter(cxTotal); got != 1 {
		t.Fatalf("%s = %d, want 1", cxTotal, got)
	}
	if p := s.Gauge(pressure); p >= 50 {
		t.Fatalf("%s = %d with the action off", pressure, p)
	}
}

// TestOverloadRejectIncomingConnections: saturated, every new connection is
// accepted and closed at once, counted as downstream_cx_overload_reject.
func TestOverloadRejectIncomingConnections(t *testing.T) {
	up := serve(t, echo)
	s := startSluice(t, heapOverloadYAML(up, "envoy.overload_actions.reject_incoming_connections", heapLimit(t)))
	addr := s.Addr("l")
	prefix := "listener." + strings.ReplaceAll(addr, ":", "_") + "."
	ballast := make([]byte, ballastSize)
	s.WaitGauge("overload.envoy.overload_actions.reject_incoming_connections.active", 1, 10*time.Second)
	for i := 0; i < 3; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if b, err := io.ReadAll(c); len(b) != 0 || err != nil {
			t.Fatalf("rejected connection: read %q, %v; want EOF", b, err)
		}
		c.Close()
	}
	if got, total := s.Counter(prefix+"downstream_cx_overload_reject"), s.Counter(prefix+"downstream_cx_total"); got != 3 || total != 0 {
		t.Fatalf("downstream_cx_overload_reject = %d, downstream_cx_total = %d; want 3, 0", got, total)
	}
	runtime.KeepAlive(ballast)
	ballast = nil
	runtime.GC()
	s.WaitGauge("overload.envoy.overload_actions.reject_incoming_connections.active", 0, 10*time.Second)
	if got := readEcho(t, addr); got != "hi\n" {
		t.Fatalf("after the pressure fell: %q", got)
	}
}

func readEcho(t *testing.T, addr string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintln(c, "hi")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, _ := bufio.NewReader(c).ReadString('\n')
	return line
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// bufferedFilter is an observer that reports a fixed number of buffered
// bytes for its connections, standing in for a terminal's buffer account.
type bufferedFilter struct {
	Bytes int64 `yaml:"bytes"`
}

func (f *bufferedFilter) Observe(s *filters.Session, c filters.Conn) (filters.Conn, error) {
	s.SetBufferedBytes(func() int64 { return f.Bytes })
	return c, nil
}

type bufferedFactory struct{}

func (bufferedFactory) Name() string       { return "test_buffered" }
func (bufferedFactory) Kind() filters.Kind { return filters.Observer }
func (bufferedFactory) NewConfig() any     { return &bufferedFilter{} }
func (bufferedFactory) Build(c any, _ *filters.Env) (any, error) {
	return c.(*bufferedFilter), nil
}

// TestOverloadResetHighMemoryStream: under heap pressure the connection
// whose filters report 2 MiB buffered is reset; one reporting 512 KiB (under
// the 1 MiB minimum tracked) keeps working.
func TestOverloadResetHighMemoryStream(t *testing.T) {
	up := serve(t, echo)
	s := startSluice(t, fmt.Sprintf(`
listeners:
  - name: big
    address: 127.0.0.1:0
    filters: [{test_buffered: {bytes: 2097152}}, {tcp_proxy: {stat_prefix: big, cluster: c}}]
  - name: small
    address: 127.0.0.1:0
    filters: [{test_buffered: {bytes: 524288}}, {tcp_proxy: {stat_prefix: small, cluster: c}}]
clusters:
  - {name: c, endpoints: ["%s"]}
overload_manager:
  refresh_interval: 20ms
  resource_monitors:
    - name: envoy.resource_monitors.fixed_heap
      typed_config: {max_heap_size_bytes: %d}
  actions:
    - name: envoy.overload_actions.reset_high_memory_stream
      triggers: [{name: envoy.resource_monitors.fixed_heap, scaled: {scaling_threshold: 0.45, saturation_threshold: 0.5}}]
`, up, heapLimit(t)))
	dial := func(l string) (net.Conn, *bufio.Reader) {
		c, err := net.Dial("tcp", s.Addr(l))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		fmt.Fprintln(c, "x")
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		r := bufio.NewReader(c)
		if _, err := r.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
		return c, r
	}
	big, bigR := dial("big")
	small, smallR := dial("small")
	ballast := make([]byte, ballastSize)
	s.WaitCounter("envoy.overload_actions.reset_high_memory_stream.count", 1, 10*time.Second)
	big.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := bigR.ReadString('\n'); err == nil || isTimeout(err) {
		t.Fatalf("the 2 MiB connection was not closed: %v", err)
	}
	fmt.Fprintln(small, "y")
	small.SetReadDeadline(time.Now().Add(5 * time.Second))
	if line, err := smallR.ReadString('\n'); err != nil || line != "y\n" {
		t.Fatalf("the 512 KiB connection: %q, %v", line, err)
	}
	runtime.KeepAlive(ballast)
	if got := s.Counter("envoy.overload_actions.reset_high_memory_stream.count"); got != 1 {
		t.Fatalf("count = %d, want 1", got)
	}
}

// TestOverloadGlobalDownstreamMaxConnections: with two connections open
// across the listeners, a third is closed at once and counted as
// downstream_global_cx_overflow on its listener; once one closes, a new
// connection is served again.
func TestOverloadGlobalDownstreamMaxConnections(t *testing.T) {
	up := serve(t, echo)
	s := startSluice(t, fmt.Sprintf(`
listeners:
  - name: a
    address: 127.0.0.1:0
    filters: [{tcp_proxy: {stat_prefix: a, cluster: c}}]
  - name: b
    address: 127.0.0.1:0
    filters: [{tcp_proxy: {stat_prefix: b, cluster: c}}]
clusters:
  - {name: c, endpoints: ["%s"]}
overload_manager:
  resource_monitors:
    - name: envoy.resource_monitors.global_downstream_max_connections
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.resource_monitors.downstream_connections.v3.DownstreamConnectionsConfig
        max_active_downstream_connections: 2
`, up))
	open := func(l string) net.Conn {
		c, err := net.Dial("tcp", s.Addr(l))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	first := open("a")
	if got := echoOn(t, first); got != "hi\n" {
		t.Fatalf("first connection: %q", got)
	}
	second := open("b")
	if got := echoOn(t, second); got != "hi\n" {
		t.Fatalf("second connection: %q", got)
	}
	third := open("b")
	third.SetReadDeadline(time.Now().Add(5 * time.Second))
	if b, err := io.ReadAll(third); len(b) != 0 || err != nil {
		t.Fatalf("third connection: read %q, %v; want EOF", b, err)
	}
	overflow := "listener." + strings.ReplaceAll(s.Addr("b"), ":", "_") + ".downstream_global_cx_overflow"
	if got := s.Counter(overflow); got != 1 {
		t.Fatalf("%s = %d, want 1", overflow, got)
	}
	first.Close()
	s.WaitGauge("server.total_connections", 1, 5*time.Second)
	if got := readEcho(t, s.Addr("a")); got != "hi\n" {
		t.Fatalf("after one closed: %q", got)
	}
}

func echoOn(t *testing.T, c net.Conn) string {
	t.Helper()
	fmt.Fprintln(c, "hi")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, _ := bufio.NewReader(c).ReadString('\n')
	return line
}
