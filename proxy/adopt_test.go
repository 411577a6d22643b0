package proxy_test

import (
	"bufio"
	"fmt"
	"github.com/sluice-proxy/sluice/internal/poll"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/internal/testenv"
)

// echoConn is a client connection through sluice to an echo peer.
type echoConn struct {
	t      *testing.T
	c      net.Conn
	r      *bufio.Reader
	closed chan struct{} // closed once a read fails (the proxy closed it)
	lines  chan string
}

func dialEcho(t *testing.T, addr string) *echoConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	e := &echoConn{t: t, c: c, r: bufio.NewReader(c), closed: make(chan struct{}), lines: make(chan string, 1)}
	go func() {
		defer close(e.closed)
		for {
			l, err := e.r.ReadString('\n')
			if err != nil {
				return
			}
			e.lines <- l
		}
	}()
	e.roundTrip("hello")
	return e
}

// roundTrip sends msg and wants it back.
func (e *echoConn) roundTrip(msg string) {
	e.t.Helper()
	if _, err := fmt.Fprintln(e.c, msg); err != nil {
		e.t.Fatalf("write %q: %v", msg, err)
	}
	select {
	case l := <-e.lines:
		if l != msg+"\n" {
			e.t.Fatalf("echo of %q: %q", msg, l)
		}
	case <-e.closed:
		e.t.Fatalf("the connection was closed (sending %q)", msg)
	case <-time.After(5 * time.Second):
		e.t.Fatalf("no echo of %q", msg)
	}
}

func (e *echoConn) isClosed() bool {
	select {
	case <-e.closed:
		return true
	default:
		return false
	}
}

func adoptConfig(drain string, listeners ...[2]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "drain_timeout: %s\nlisteners:\n", drain)
	for _, l := range listeners {
		fmt.Fprintf(&b, "  - {name: %s, address: %s, filters: [{tcp_proxy: {stat_prefix: %s, cluster: echo}}]}\n", l[0], l[1], l[0])
	}
	return b.String() + "clusters:\n  - {name: echo, endpoints: [\"%s\"]}\n"
}

// TestListenerComesBackAdoptsDrainingConnections: a reload removes listener
// a, a later one brings a listener back at a's address before a's drain
// deadline. a's open connection is kept past that deadline (the control
// connection of listener x, removed with it and not brought back, is closed
// then), and is closed at the deadline of a later removal.
func TestListenerComesBackAdoptsDrainingConnections(t *testing.T) {
	up := testenv.Echo(t).Addr()
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	cfg := func(drain string, ls ...[2]string) string { return fmt.Sprintf(adoptConfig(drain, ls...), up) }
	a, x := [2]string{"a", addr}, [2]string{"x", "127.0.0.1:0"}
	s := startSluice(t, cfg("2s", a, x))
	ca, cx := dialEcho(t, addr), dialEcho(t, s.Addr("x"))

	// Both removed; a comes back under a new name at once.
	if err := s.Reload(cfg("2s") + "allow_no_listeners: true\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Fatal("the removed listener still accepts")
	}
	if err := s.Reload(cfg("2s", [2]string{"a2", addr})); err != nil {
		t.Fatal(err)
	}
	ca.roundTrip("adopted")
	if ls := s.Server.Listeners(); len(ls) != 1 || ls[0].Address != addr || ls[0].Connections != 1 {
		t.Fatalf("listeners: %+v, want a2 at %s with the adopted connection", ls, addr)
	}
	// x's deadline passes: x's connection is closed, a's is not.
	poll.Eventually(t, 10*time.Second, cx.isClosed, "the control connection was not closed at its drain deadline")
	ca.roundTrip("still here after the deadline")
	dialEcho(t, addr).roundTrip("new connections too")

	// Removing a2 drains the adopted connection with the new deadline.
	if err := s.Reload(cfg("100ms", x)); err != nil {
		t.Fatal(err)
	}
	poll.Eventually(t, 10*time.Second, ca.isClosed, "the adopted connection outlived the next removal's drain deadline")
}

// TestListenerRenamedKeepsSocket: a reload that renames a listener at the
// same address keeps its socket and its connections.
func TestListenerRenamedKeepsSocket(t *testing.T) {
	up := testenv.Echo(t).Addr()
	addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	cfg := func(name string) string { return fmt.Sprintf(adoptConfig("100ms", [2]string{name, addr}), up) }
	s := startSluice(t, cfg("old"))
	c := dialEcho(t, addr)
	if err := s.Reload(cfg("new")); err != nil {
		t.Fatal(err)
	}
	if got := s.Counter("listener_manager.listener_removed"); got != 0 {
		t.Fatalf("listener_removed = %d, want the listener kept", got)
	}
	if s.Server.ListenerAddr("new") != addr || s.Server.ListenerAddr("old") != "" {
		t.Fatalf("listeners after the rename: %+v", s.Server.Listeners())
	}
	c.roundTrip("after the rename")
	dialEcho(t, addr).roundTrip("new connection")
}

// TestReloadRefusesNoListeners: an empty file (or one that lost its
// listeners) does not drain a running sluice; allow_no_listeners does.
func TestReloadRefusesNoListeners(t *testing.T) {
	up := testenv.Echo(t).Addr()
	s := startSluice(t, fmt.Sprintf(adoptConfig("100ms", [2]string{"a", "127.0.0.1:0"}), up))
	addr := s.Addr("a")
	c := dialEcho(t, addr)
	for i, body := range []string{"", "# nothing yet\n", "drain_timeout: 1s\n"} {
		err := s.Reload(body)
		if err == nil || !strings.Contains(err.Error(), "listeners: the config has none and would drain all 1 running listeners; set allow_no_listeners: true") {
			t.Fatalf("reload of %q: %v", body, err)
		}
		if got := s.Counter("server.config_reload_failed"); got != uint64(i+1) {
			t.Fatalf("config_reload_failed = %d", got)
		}
	}
	c.roundTrip("after the refused reloads")
	dialEcho(t, addr).roundTrip("listener still accepts")
	if err := s.Reload("allow_no_listeners: true\ndrain_timeout: 100ms\n"); err != nil {
		t.Fatal(err)
	}
	if len(s.Server.Listeners()) != 0 {
		t.Fatalf("listeners: %+v", s.Server.Listeners())
	}
	poll.Eventually(t, 10*time.Second, c.isClosed, "the drained connection was not closed")
}
