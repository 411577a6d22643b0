package thrifttest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/apache/thrift/lib/go/thrift"

	"github.com/sluice-proxy/sluice/internal/thrifttest/calc"
)

// Server is a Go Thrift server of the Calc and Admin services (the
// multiplexed processor serves both names; a plain client reaches Calc).
type Server struct {
	Name  string
	Addr  string
	Notes chan string
	srv   *thrift.TSimpleServer
	// stop unblocks sleep calls when the server stops.
	stop chan struct{}
	once sync.Once
	mu   sync.Mutex
	// Calls counts calls by method.
	calls map[string]int
}

// StartServer starts a server named name speaking st on a free loopback
// port; it stops at the end of the test.
func StartServer(tb testing.TB, name string, st Stack) *Server {
	tb.Helper()
	s, err := NewServer("127.0.0.1:0", name, st)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Stop)
	return s
}

// NewServer starts a server named name speaking st on addr (bench/thriftload
// uses it outside tests); Stop ends it.
func NewServer(addr, name string, st Stack) (*Server, error) {
	sock, err := thrift.NewTServerSocket(addr)
	if err != nil {
		return nil, err
	}
	if err := sock.Listen(); err != nil {
		return nil, err
	}
	s := &Server{Name: name, Addr: sock.Addr().String(), Notes: make(chan string, 1024), stop: make(chan struct{}), calls: map[string]int{}}
	mp := thrift.NewTMultiplexedProcessor()
	mp.RegisterDefault(calc.NewCalcProcessor(s))
	mp.RegisterProcessor("Calc", calc.NewCalcProcessor(s))
	mp.RegisterProcessor("Admin", calc.NewAdminProcessor(adminHandler{s}))
	tf, pf := st.Factories()
	s.srv = thrift.NewTSimpleServer4(mp, sock, tf, pf)
	s.srv.SetForwardHeaders([]string{"tenant", "route"})
	go s.srv.Serve()
	return s, nil
}

// Stop stops the server: the listener and every connection close.
func (s *Server) Stop() {
	s.once.Do(func() {
		close(s.stop)
		s.srv.Stop()
	})
}

// Count returns how many calls of method were served.
func (s *Server) Count(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

func (s *Server) count(m string) {
	s.mu.Lock()
	s.calls[m]++
	s.mu.Unlock()
}

// Add adds.
func (s *Server) Add(_ context.Context, a, b int32) (int32, error) { s.count("add"); return a + b, nil }

// Echo echoes.
func (s *Server) Echo(_ context.Context, v string) (string, error) { s.count("echo"); return v, nil }

// Describe returns its argument with a value appended.
func (s *Server) Describe(_ context.Context, it *calc.Item) (*calc.Item, error) {
	s.count("describe")
	if it == nil { // a call without the argument (fuzzed input)
		it = &calc.Item{}
	}
	it.Values = append(it.Values, int64(len(it.Values)))
	return it, nil
}

// Fail throws CalcError for a positive code, a TApplicationException for a
// negative one, and returns the code for 0.
func (s *Server) Fail(_ context.Context, code int32) (int32, error) {
	s.count("fail")
	switch {
	case code > 0:
		return 0, &calc.CalcError{Code: code, Why: "asked to fail"}
	case code < 0:
		return 0, thrift.NewTApplicationException(thrift.INTERNAL_ERROR, "server failure")
	}
	return 0, nil
}

// Note records a oneway note.
func (s *Server) Note(_ context.Context, v string) error {
	s.count("note")
	select {
	case s.Notes <- v:
	default:
	}
	return nil
}

// Sleep answers after ms milliseconds, or when the server stops for ms < 0.
func (s *Server) Sleep(ctx context.Context, ms int32) (int32, error) {
	s.count("sleep")
	var wait <-chan time.Time
	if ms >= 0 {
		wait = time.After(time.Duration(ms) * time.Millisecond)
	}
	select {
	case <-wait:
	case <-s.stop:
	}
	return ms, nil
}

// Whoami names the server.
func (s *Server) Whoami(ctx context.Context) (string, error) {
	s.count("whoami")
	if h, ok := thrift.GetHeader(ctx, "tenant"); ok {
		return s.Name + "/" + h, nil
	}
	return s.Name, nil
}

type adminHandler struct{ s *Server }

func (a adminHandler) Whoami(ctx context.Context) (string, error) {
	a.s.count("admin.whoami")
	return "admin@" + a.s.Name, nil
}

func (a adminHandler) Add(_ context.Context, x, y int32) (int32, error) {
	a.s.count("admin.add")
	return x + y + 1000, nil
}

// Client is a Calc client over one connection.
type Client struct {
	*calc.CalcClient
	Trans thrift.TTransport
	Proto thrift.TProtocol
}

// Dial connects a client speaking st to addr; service "" is a plain
// client, otherwise a multiplexed one ("Calc").
func Dial(tb testing.TB, addr string, st Stack, service string) *Client {
	tb.Helper()
	tf, pf := st.Factories()
	trans, err := tf.GetTransport(thrift.NewTSocketConf(addr, st.conf()))
	if err != nil {
		tb.Fatal(err)
	}
	if err := trans.Open(); err != nil {
		tb.Fatalf("dial %s: %v", addr, err)
	}
	tb.Cleanup(func() { trans.Close() })
	p := pf.GetProtocol(trans)
	var out thrift.TProtocol = p
	if service != "" {
		out = thrift.NewTMultiplexedProtocol(p, service)
	}
	return &Client{CalcClient: calc.NewCalcClient(thrift.NewTStandardClient(p, out)), Trans: trans, Proto: p}
}

// DialAdmin connects a multiplexed Admin client.
func DialAdmin(tb testing.TB, addr string, st Stack) *calc.AdminClient {
	tb.Helper()
	tf, pf := st.Factories()
	trans, err := tf.GetTransport(thrift.NewTSocketConf(addr, st.conf()))
	if err != nil {
		tb.Fatal(err)
	}
	if err := trans.Open(); err != nil {
		tb.Fatalf("dial %s: %v", addr, err)
	}
	tb.Cleanup(func() { trans.Close() })
	p := pf.GetProtocol(trans)
	return calc.NewAdminClient(thrift.NewTStandardClient(p, thrift.NewTMultiplexedProtocol(p, "Admin")))
}

var _ calc.Calc = (*Server)(nil)
