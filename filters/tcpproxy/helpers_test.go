package tcpproxy_test

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/proxy"
)

// upstream is a loopback TCP server running handle for each connection.
type upstream struct {
	ln       net.Listener
	accepted atomic.Int64
	wg       sync.WaitGroup
}

func startUpstream(t testing.TB, handle func(c *net.TCPConn)) *upstream {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := &upstream{ln: ln}
	u.wg.Add(1)
	go func() {
		defer u.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			u.accepted.Add(1)
			u.wg.Add(1)
			go func() {
				defer u.wg.Done()
				defer c.Close()
				handle(c.(*net.TCPConn))
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); u.wg.Wait() })
	return u
}

func (u *upstream) addr() string { return u.ln.Addr().String() }

// echo copies everything back and half-closes when the client does.
func echo(c *net.TCPConn) {
	io.Copy(c, c)
	c.CloseWrite()
}

// deadAddr returns a loopback address nothing listens on.
func deadAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := ln.Addr().String()
	ln.Close()
	return a
}

// byteCounter is a tiny observer used to prove the filter contract: it sees
// both byte streams through filters.Tap and publishes totals as metadata.
type byteCounter struct{}

type counts struct{ in, out atomic.Int64 }

var lastCounts atomic.Pointer[counts]

func (byteCounter) Observe(s *filters.Session, c filters.Conn) (filters.Conn, error) {
	n := &counts{}
	lastCounts.Store(n)
	s.SetMetadata("test.byte_counter", n)
	return filters.Tap(c,
		func(p []byte) error { n.in.Add(int64(len(p))); return nil },
		func(p []byte) error { n.out.Add(int64(len(p))); return nil }), nil
}

type byteCounterFactory struct{}

func (byteCounterFactory) Name() string       { return "test_byte_counter" }
func (byteCounterFactory) Kind() filters.Kind { return filters.Observer }
func (byteCounterFactory) NewConfig() any     { return &struct{}{} }
func (byteCounterFactory) Build(any, *filters.Env) (any, error) {
	return byteCounter{}, nil
}

// testFilters gives a test server this package's test filters without
// registering them for the whole test binary (proxy.Filters).
func testFilters() proxy.Option { return proxy.Filters(byteCounterFactory{}, panickerFactory{}) }
