package proxy_test

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"github.com/sluice-proxy/sluice/internal/poll"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/filters"
)

const reloadBase = `
drain_timeout: 10s
listeners:
%s
clusters:
  - {name: echo, endpoints: ["%s"]}
`

func listenerYAML(name string) string {
	return fmt.Sprintf(`  - name: %s
    address: 127.0.0.1:0
    filters: [{tcp_proxy: {stat_prefix: %s, cluster: echo}}]
`, name, name)
}

// TestReloadAddsAndRemovesListeners: a reload starts a new listener and
// removes an old one whose open connection keeps working while it drains;
// a bad reload changes nothing.
func TestReloadAddsAndRemovesListeners(t *testing.T) {
	up := serve(t, echo)
	s := startSluice(t, fmt.Sprintf(reloadBase, listenerYAML("a"), up))
	oldAddr := s.Addr("a")
	c, err := net.Dial("tcp", oldAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	roundTrip := func(msg string) {
		t.Helper()
		fmt.Fprintln(c, msg)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if l, err := r.ReadString('\n'); err != nil || l != msg+"\n" {
			t.Fatalf("echo of %q: %q, %v", msg, l, err)
		}
	}
	roundTrip("before reload")

	if err := s.Reload(fmt.Sprintf(reloadBase, listenerYAML("b"), up)); err != nil {
		t.Fatal(err)
	}
	if got := s.Counter("listener_manager.listener_removed"); got != 1 {
		t.Fatalf("listener_removed = %d", got)
	}
	roundTrip("after reload, on the draining listener")
	if _, err := net.DialTimeout("tcp", oldAddr, time.Second); err == nil {
		t.Fatal("the removed listener still accepts connections")
	}
	bc, err := net.Dial("tcp", s.Addr("b"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(bc, "on b")
	bc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if l, err := bufio.NewReader(bc).ReadString('\n'); err != nil || l != "on b\n" {
		t.Fatalf("new listener: %q %v", l, err)
	}
	bc.Close()

	// A bad file is refused and counted; b keeps serving.
	bad := fmt.Sprintf(reloadBase, strings.Replace(listenerYAML("b"), "cluster: echo", "cluster: missing", 1), up)
	err = s.Reload(bad)
	if err == nil || !strings.Contains(err.Error(), `listeners[0].filters[0].tcp_proxy.cluster: no such cluster "missing"`) {
		t.Fatalf("bad reload error: %v", err)
	}
	if got := s.Counter("server.config_reload_failed"); got != 1 {
		t.Fatalf("config_reload_failed = %d", got)
	}
	if got := readAllEcho(t, s.Addr("b")); got != "still here\n" {
		t.Fatalf("after a bad reload: %q", got)
	}
	roundTrip("the old connection survives it all")
}

func readAllEcho(t *testing.T, addr string) string {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintln(c, "still here")
	c.(*net.TCPConn).CloseWrite()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, _ := io.ReadAll(c)
	return string(b)
}

// TestReloadChangesClusterEndpoints: new connections go to the new endpoint,
// an open connection to the old one continues.
func TestReloadChangesClusterEndpoints(t *testing.T) {
	one, two := serve(t, echo), serve(t, named("two"))
	cfg := func(ep string) string { return fmt.Sprintf(reloadBase, listenerYAML("a"), ep) }
	s := startSluice(t, cfg(one))
	c, err := net.Dial("tcp", s.Addr("a"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	// A round trip first, so the connection has its upstream before the reload.
	fmt.Fprintln(c, "first")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if l, err := r.ReadString('\n'); err != nil || l != "first\n" {
		t.Fatalf("before reload: %q %v", l, err)
	}
	if err := s.Reload(cfg(two)); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, s.Addr("a")); got != "two" {
		t.Fatalf("new connection reached %q, want the new endpoint", got)
	}
	fmt.Fprintln(c, "old")
	if l, err := r.ReadString('\n'); err != nil || l != "old\n" {
		t.Fatalf("old connection: %q %v", l, err)
	}
	if got := s.Counter("cluster_manager.cluster_modified"); got != 1 {
		t.Fatalf("cluster_modified = %d", got)
	}
}

// TestChainMatchBySNI routes TLS connections by SNI without terminating them:
// the upstream completes the handshake, so the peeked ClientHello was replayed
// intact.
func TestChainMatchBySNI(t *testing.T) {
	_, _, certA := selfSigned(t, "a.example")
	_, _, certB := selfSigned(t, "b.example")
	tlsEcho := func(cert tls.Certificate, name string) func(net.Conn) {
		return func(c net.Conn) {
			tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{cert}})
			if tc.Handshake() == nil {
				tc.Write([]byte(name))
				tc.Close()
			}
		}
	}
	a, b, plain := serve(t, tlsEcho(certA, "A")), serve(t, tlsEcho(certB, "B")), serve(t, named("plain"))
	s := startSluice(t, fmt.Sprintf(`
listeners:
  - name: l
    address: 127.0.0.1:0
    listener_filters_timeout: 300ms
    continue_on_listener_filters_timeout: true
    filter_chains:
      - match: {server_names: [a.example]}
        filters: [{tcp_proxy: {stat_prefix: a, cluster: a}}]
      - match: {server_names: ["*.example"]}
        filters: [{tcp_proxy: {stat_prefix: b, cluster: b}}]
      - match: {transport_protocol: raw_buffer}
        filters: [{tcp_proxy: {stat_prefix: p, cluster: plain}}]
clusters:
  - {name: a, endpoints: ["%s"]}
  - {name: b, endpoints: ["%s"]}
  - {name: plain, endpoints: ["%s"]}
`, a, b, plain))
	dial := func(sni string) string {
		c, err := tls.Dial("tcp", s.Addr("l"), &tls.Config{ServerName: sni, InsecureSkipVerify: true})
		if err != nil {
			t.Fatalf("tls dial %s: %v", sni, err)
		}
		defer c.Close()
		bs, _ := io.ReadAll(c)
		return string(bs)
	}
	if got := dial("a.example"); got != "A" {
		t.Fatalf("a.example reached %q", got)
	}
	if got := dial("x.example"); got != "B" {
		t.Fatalf("x.example reached %q", got)
	}
	// A plain-text client is not TLS: the raw_buffer chain takes it.
	if got := readAll(t, s.Addr("l")); got != "plain" {
		t.Fatalf("plain client reached %q", got)
	}
	// TLS with a name no chain matches: no chain, counted.
	c, err := tls.Dial("tcp", s.Addr("l"), &tls.Config{ServerName: "other.test", InsecureSkipVerify: true})
	if err == nil {
		c.Close()
		t.Fatal("handshake with an unmatched SNI succeeded")
	}
	addr := strings.ReplaceAll(s.Addr("l"), ":", "_")
	s.WaitCounter("listener."+addr+".no_filter_chain_match", 1, 2*time.Second)
}

// TestTLSTermination: the chain terminates TLS and talks plain upstream.
func TestTLSTermination(t *testing.T) {
	certFile, keyFile, _ := selfSigned(t, "db.example")
	up := serve(t, echo)
	s := startSluice(t, fmt.Sprintf(`
listeners:
  - name: l
    address: 127.0.0.1:0
    filter_chains:
      - tls: {certificate_file: %s, private_key_file: %s}
        filters: [{tcp_proxy: {stat_prefix: tls, cluster: c}}]
clusters:
  - {name: c, endpoints: ["%s"]}
`, certFile, keyFile, up))
	c, err := tls.Dial("tcp", s.Addr("l"), &tls.Config{ServerName: "db.example", InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintln(c, "secret")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if l, err := bufio.NewReader(c).ReadString('\n'); err != nil || l != "secret\n" {
		t.Fatalf("echo over terminated TLS: %q %v", l, err)
	}
}

// TestSourcePrefixMatch: a chain for 10.0.0.0/8 does not take loopback
// clients; the next chain does.
func TestSourcePrefixMatch(t *testing.T) {
	ten, lo := serve(t, named("ten")), serve(t, named("loopback"))
	s := startSluice(t, fmt.Sprintf(`
listeners:
  - name: l
    address: 127.0.0.1:0
    filter_chains:
      - match: {source_prefixes: [10.0.0.0/8]}
        filters: [{tcp_proxy: {stat_prefix: a, cluster: ten}}]
      - match: {source_prefixes: [127.0.0.0/8]}
        filters: [{tcp_proxy: {stat_prefix: b, cluster: lo}}]
clusters:
  - {name: ten, endpoints: ["%s"]}
  - {name: lo, endpoints: ["%s"]}
`, ten, lo))
	if got := readAll(t, s.Addr("l")); got != "loopback" {
		t.Fatalf("reached %q", got)
	}
}

// closingFilter is a test observer that holds a resource: the server must
// close it once a reload retired its chain and its last connection ended.
type closingFilter struct{ closed *atomic.Int32 }

func (f closingFilter) Observe(_ *filters.Session, c filters.Conn) (filters.Conn, error) {
	return c, nil
}
func (f closingFilter) Close() error { f.closed.Add(1); return nil }

var closedCount atomic.Int32

type closingFactory struct{}

func (closingFactory) Name() string       { return "test_closing" }
func (closingFactory) Kind() filters.Kind { return filters.Observer }
func (closingFactory) NewConfig() any     { return &struct{}{} }
func (closingFactory) Build(any, *filters.Env) (any, error) {
	return closingFilter{&closedCount}, nil
}

// TestRetiredFiltersClose: a reload retires the old chain's filters, which
// are closed only after the connection still using them ends.
func TestRetiredFiltersClose(t *testing.T) {
	closedCount.Store(0)
	up := serve(t, echo)
	cfg := func(prefix string) string {
		return fmt.Sprintf(`
listeners:
  - name: l
    address: 127.0.0.1:0
    filters: [{test_closing: {}}, {tcp_proxy: {stat_prefix: %s, cluster: c}}]
clusters:
  - {name: c, endpoints: ["%s"]}
`, prefix, up)
	}
	s := startSluice(t, cfg("a"))
	c, err := net.Dial("tcp", s.Addr("l"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(c, "x")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	if _, err := r.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(cfg("b")); err != nil {
		t.Fatal(err)
	}
	if n := closedCount.Load(); n != 0 {
		t.Fatalf("closed %d filters while a connection still uses them", n)
	}
	c.Close()
	poll.Eventually(t, 5*time.Second, func() bool { return closedCount.Load() == 1 },
		"the retired filter was not closed after its last connection")
}
