//go:build linux

package ioloop

import (
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/internal/guard"
)

// echoHandler answers every read with the same bytes, written from an
// AfterBatch function (as redis_proxy writes its upstream batches), gives
// the socket back on "bye" or the end of the stream, and panics on "boom".
type echoHandler struct {
	pend    []byte
	back    chan *Sock
	stopped chan error
	rounds  atomic.Int32
}

func (h *echoHandler) Ready(s *Sock, buf []byte) {
	n, err := s.Read(buf)
	if err == syscall.EAGAIN {
		return
	}
	if err != nil || n == 0 || bytes.Equal(buf[:n], []byte("bye")) {
		s.Detach()
		h.back <- s
		return
	}
	if bytes.Equal(buf[:n], []byte("boom")) {
		panic("boom")
	}
	h.pend = append(h.pend, buf[:n]...)
	s.AfterBatch(func() {
		h.rounds.Add(1)
		s.WriteAll(h.pend, time.Time{})
		h.pend = h.pend[:0]
	})
}

func (h *echoHandler) Stopped(s *Sock, err error) { h.stopped <- err; s.Close() }

func newEcho() *echoHandler {
	return &echoHandler{back: make(chan *Sock, 1), stopped: make(chan error, 1)}
}

// TestSockServeAndRelease: a loop serves an adopted socket through its
// handler, gives it back as a Go conn that carries on with the same
// connection, and contains a handler's panic to that socket.
func TestSockServeAndRelease(t *testing.T) {
	t.Parallel()
	g, err := New(1)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()

	client, srv := pair(t, ln)
	defer client.Close()
	h := newEcho()
	s, err := g.Adopt(srv, h)
	if err != nil {
		t.Fatal(err)
	}
	if g.Adopted() != 1 {
		t.Fatalf("Adopted = %d", g.Adopted())
	}
	buf := make([]byte, 64)
	for _, msg := range []string{"one", "two", "three"} {
		client.Write([]byte(msg))
		client.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.ReadFull(client, buf[:len(msg)]); err != nil || string(buf[:len(msg)]) != msg {
			t.Fatalf("echo of %q: %q, %v", msg, buf[:len(msg)], err)
		}
	}
	if h.rounds.Load() < 3 {
		t.Fatalf("AfterBatch ran %d times", h.rounds.Load())
	}
	// "bye": the handler detaches; the socket goes on as a Go conn.
	client.Write([]byte("bye"))
	var got *Sock
	select {
	case got = <-h.back:
	case <-time.After(10 * time.Second):
		t.Fatal("the handler did not give the socket back")
	}
	if got != s {
		t.Fatal("another socket came back")
	}
	nc, err := s.Release()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := s.Release(); err == nil {
		t.Fatal("a second Release succeeded")
	}
	if n, err := s.Write([]byte("x")); n != 0 || !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Write after Release: %d, %v", n, err)
	}
	client.Write([]byte("after"))
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(nc, buf[:5]); err != nil || string(buf[:5]) != "after" {
		t.Fatalf("the Go conn read %q, %v", buf[:5], err)
	}

	// A panic in Ready detaches that socket only and reports it.
	c2, srv2 := pair(t, ln)
	defer c2.Close()
	h2 := newEcho()
	if _, err := g.Adopt(srv2, h2); err != nil {
		t.Fatal(err)
	}
	c2.Write([]byte("boom"))
	select {
	case err := <-h2.stopped:
		var pe *guard.PanicError
		if !errors.As(err, &pe) {
			t.Fatalf("Stopped with %v, want a *guard.PanicError", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Stopped was not called after the panic")
	}
	c2.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c2.Read(buf); err == nil {
		t.Fatal("the panicked socket was not closed")
	}
}

// TestSockShutdownAndLoopClose: Shutdown from another goroutine makes the
// loop find the end of the stream, and closing the Group lets every socket
// still in a loop go through Stopped with ErrClosed.
func TestSockShutdownAndLoopClose(t *testing.T) {
	t.Parallel()
	g, err := New(2)
	if err != nil {
		t.Fatal(err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()

	c1, srv1 := pair(t, ln)
	defer c1.Close()
	h1 := newEcho()
	s1, err := g.Adopt(srv1, h1)
	if err != nil {
		t.Fatal(err)
	}
	s1.Shutdown()
	select {
	case <-h1.back:
		s1.Close()
	case <-time.After(10 * time.Second):
		t.Fatal("Shutdown did not end the socket in its loop")
	}

	var hs []*echoHandler
	var conns []net.Conn
	for range 8 {
		c, srv := pair(t, ln)
		conns = append(conns, c)
		h := newEcho()
		if _, err := g.Adopt(srv, h); err != nil {
			t.Fatal(err)
		}
		hs = append(hs, h)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); g.Close() }()
	for i, h := range hs {
		select {
		case err := <-h.stopped:
			if !errors.Is(err, ErrClosed) {
				t.Fatalf("socket %d stopped with %v", i, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("socket %d was not stopped", i)
		}
	}
	wg.Wait()
	for _, c := range conns {
		c.Close()
	}
	if _, err := g.Adopt(nil, newEcho()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Adopt on a closed Group: %v", err)
	}
}
