package proxy_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
)

// TestListenerMaxConnections: a listener's max_connections (Envoy's
// runtime envoy.resource_limits.listener.<name>.connection_limit) refuses
// connections beyond it at accept, counted in downstream_cx_overflow, and
// serves again once one ends.
func TestListenerMaxConnections(t *testing.T) {
	up := serve(t, echo)
	s := sluicetest.Start(t, fmt.Sprintf(`
listeners:
  - name: capped
    address: 127.0.0.1:0
    max_connections: 2
    filters: [{tcp_proxy: {stat_prefix: c, cluster: echo}}]
clusters:
  - {name: echo, endpoints: ["%s"]}
`, up))
	st := "listener.127.0.0.1_" + port(s.Addr("capped"))
	try := func() (net.Conn, bool) {
		c, err := net.Dial("tcp", s.Addr("capped"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(c, "x\n")
		l, err := bufio.NewReader(c).ReadString('\n')
		return c, err == nil && l == "x\n"
	}
	a, ok1 := try()
	_, ok2 := try()
	s.WaitGauge(st+".downstream_cx_active", 2, 10*time.Second)
	_, ok3 := try()
	if !ok1 || !ok2 || ok3 {
		t.Fatalf("served %v %v %v, want true true false", ok1, ok2, ok3)
	}
	s.WaitCounter(st+".downstream_cx_overflow", 1, 10*time.Second)
	a.Close()
	s.WaitGauge(st+".downstream_cx_active", 1, 10*time.Second)
	if _, ok := try(); !ok {
		t.Fatal("not served after a connection ended")
	}
}

// TestListenerFiltersTimeoutContinue: a client that sends nothing (a
// server-speaks-first protocol) behind http_inspector is closed at
// listener_filters_timeout (downstream_pre_cx_timeout), or, with
// continue_on_listener_filters_timeout, served by the chain without
// application_protocols.
func TestListenerFiltersTimeoutContinue(t *testing.T) {
	greeter := serve(t, func(c net.Conn) { io.WriteString(c, "hello from the server\n") })
	s := sluicetest.Start(t, fmt.Sprintf(`
listeners:
  - name: strict
    address: 127.0.0.1:0
    listener_filters_timeout: 200ms
    listener_filters: [{name: envoy.filters.listener.http_inspector}]
    filters: [{tcp_proxy: {stat_prefix: s, cluster: greeter}}]
  - name: lenient
    address: 127.0.0.1:0
    listener_filters_timeout: 200ms
    continue_on_listener_filters_timeout: true
    listener_filters: [{name: envoy.filters.listener.http_inspector}]
    filters: [{tcp_proxy: {stat_prefix: l, cluster: greeter}}]
clusters:
  - {name: greeter, endpoints: ["%s"]}
`, greeter))
	if got := tagVia(t, "127.0.0.1", s.Addr("strict"), nil); got != "closed" {
		t.Errorf("strict: %q, want the connection closed", got)
	}
	s.WaitCounter("listener.127.0.0.1_"+port(s.Addr("strict"))+".downstream_pre_cx_timeout", 1, 10*time.Second)
	if got := tagVia(t, "127.0.0.1", s.Addr("lenient"), nil); got != "hello from the server" {
		t.Errorf("lenient: %q, want the server's greeting", got)
	}
}
