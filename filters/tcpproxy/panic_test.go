package tcpproxy_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/filters"
)

// panicker is an observer that panics on purpose: in Observe for the
// first connection, or in its read or write callback when a chunk carries the
// word "boom".
type panicker struct {
	at    string
	armed *atomic.Bool
}

func (p panicker) Observe(s *filters.Session, c filters.Conn) (filters.Conn, error) {
	if p.at == "observe" {
		if p.armed.Swap(false) {
			panic("test_panic: in Observe")
		}
		return c, nil
	}
	boom := func(where string) func([]byte) error {
		if p.at != where {
			return nil
		}
		return func(b []byte) error {
			if bytes.Contains(b, []byte("boom")) {
				panic("test_panic: in the " + where + " callback")
			}
			return nil
		}
	}
	return filters.Tap(c, boom("read"), boom("write")), nil
}

type panickerConfig struct {
	At string `yaml:"at"`
}

type panickerFactory struct{}

func (panickerFactory) Name() string       { return "test_panic" }
func (panickerFactory) Kind() filters.Kind { return filters.Observer }
func (panickerFactory) NewConfig() any     { return &panickerConfig{} }
func (panickerFactory) Build(cfg any, _ *filters.Env) (any, error) {
	p := panicker{at: cfg.(*panickerConfig).At, armed: new(atomic.Bool)}
	p.armed.Store(true)
	return p, nil
}

// TestPanicClosesOneConnection is the hardening issue's containment rule: a
// panic in a filter closes that one connection, is logged and counted in
// server.contained_panics, and the listener keeps serving, in both I/O
// modes and wherever the filter panics.
func TestPanicClosesOneConnection(t *testing.T) { forEachIOMode(t, testPanicClosesOneConnection) }

func testPanicClosesOneConnection(t *testing.T, m *ioMode) {
	for _, at := range []string{"observe", "read", "write"} {
		t.Run(at, func(t *testing.T) {
			up := startUpstream(t, echo)
			chain := fmt.Sprintf("      - test_panic: {at: %s}\n", at)
			s := m.start(t, proxyConfig(`"`+up.addr()+`"`, "", chain))

			// A healthy connection opened before the panic stays up.
			var healthy net.Conn
			if at != "observe" {
				healthy = dial(t, s.Addr("l"))
				roundTrip(t, healthy, "hello")
			}

			victim := dial(t, s.Addr("l"))
			victim.Write([]byte("boom"))
			victim.SetReadDeadline(time.Now().Add(10 * time.Second))
			// The read callback panics before the bytes go up, the write
			// callback before they come back: nothing arrives, and the
			// connection is closed (reset if sluice left "boom" unread).
			if n, err := io.Copy(io.Discard, victim); n != 0 || (err != nil && !errors.Is(err, syscall.ECONNRESET)) {
				t.Fatalf("victim: read %d bytes, err %v; want the connection closed", n, err)
			}
			s.WaitCounter("server.contained_panics", 1, 10*time.Second)

			if healthy != nil {
				roundTrip(t, healthy, "still here")
			}
			roundTrip(t, dial(t, s.Addr("l")), "a new connection")
		})
	}
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// roundTrip writes msg and reads the echo back.
func roundTrip(t *testing.T, c net.Conn, msg string) {
	t.Helper()
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil || string(got) != msg {
		t.Fatalf("echo %q, err %v; want %q", got, err, msg)
	}
}
