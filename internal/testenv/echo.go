package testenv

import (
	"github.com/sluice-proxy/sluice/internal/poll"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// EchoServer is an in-process TCP echo server on loopback, for L4 tests: it
// writes back every byte it reads until the peer closes.
type EchoServer struct {
	t        testing.TB
	port     int
	accepted atomic.Int64

	mu    sync.Mutex
	ln    net.Listener // nil while killed
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup // accept loop and connection goroutines
}

// Echo starts an echo server on a free loopback port, stopped at test end.
func Echo(t testing.TB) *EchoServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("testenv: echo listen: %v", err)
	}
	s := &EchoServer{t: t, port: ln.Addr().(*net.TCPAddr).Port, conns: map[net.Conn]struct{}{}}
	s.serve(ln)
	t.Cleanup(s.Kill)
	return s
}

// Addr returns host:port of the server.
func (s *EchoServer) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Port returns the server's TCP port.
func (s *EchoServer) Port() int { return s.port }

// Accepted returns how many connections the server has accepted so far.
func (s *EchoServer) Accepted() int64 { return s.accepted.Load() }

// serve runs the accept loop on ln.
func (s *EchoServer) serve(ln net.Listener) {
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return // closed by Kill
			}
			s.accepted.Add(1)
			s.mu.Lock()
			if s.ln != ln { // killed between Accept and here
				s.mu.Unlock()
				c.Close()
				return
			}
			s.conns[c] = struct{}{}
			s.wg.Add(1)
			s.mu.Unlock()
			go s.echo(c)
		}
	}()
}

// echo copies c to itself, then closes it.
func (s *EchoServer) echo(c net.Conn) {
	defer s.wg.Done()
	_, _ = io.Copy(c, c)
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	c.Close()
}

// Kill closes the listener and resets every open connection (RST, as when
// a host dies), and waits for the server's goroutines to end.
func (s *EchoServer) Kill() {
	s.mu.Lock()
	if s.ln != nil {
		s.ln.Close()
		s.ln = nil
	}
	for c := range s.conns {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// Restart kills the server if it runs and listens again on the same port.
func (s *EchoServer) Restart() {
	s.t.Helper()
	s.Kill()
	var ln net.Listener
	var err error
	// The port can stay busy for a moment after close; poll, don't sleep.
	if !poll.Until(5*time.Second, func() bool {
		ln, err = net.Listen("tcp", s.Addr())
		return err == nil
	}) {
		s.t.Fatalf("testenv: echo restart on %s: %v", s.Addr(), err)
	}
	s.serve(ln)
}
