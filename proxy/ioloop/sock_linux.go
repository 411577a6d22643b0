//go:build linux

package ioloop

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sluice-proxy/sluice/internal/guard"
)

// A Sock is one socket a loop reads for a terminal filter that owns its
// requests (a redis_proxy client), where a Flow is two sockets whose bytes
// a loop moves itself. The loop calls the handler when the socket is ready;
// the handler reads it (Read), parses what came and queues its work, and may
// ask for a function to run once the loop has handled every ready socket of
// this round (AfterBatch), so that work queued by many clients goes out
// together (one upstream write per round, as twemproxy does). Anything the
// handler must not do on the loop's thread (wait for a dial, a full queue,
// a blocking command) it leaves to its own goroutine by giving the socket
// back (Release), which returns a Go conn over it.
type Sock struct {
	l  *evLoop
	fd int
	h  SockHandler

	// The loop's thread only.
	mask     uint32
	detached bool // out of the loop: released, or the loop stopped

	// mu guards closing the socket against writes and shutdowns from
	// other goroutines, so that they never touch a number reused by
	// another connection.
	mu     sync.RWMutex
	closed bool
}

// SockHandler is what a loop calls for a Sock, on the loop's thread. A
// panic in Ready detaches the Sock and calls Stopped with a
// *guard.PanicError.
type SockHandler interface {
	// Ready is called when the socket is readable, hung up or failed.
	Ready(s *Sock, buf []byte)
	// Stopped is called once when the loop lets the socket go without the
	// handler asking (the loop stopped, or Ready panicked). The socket is
	// out of the epoll set but open: the handler releases it (Release
	// works from any goroutine then) or closes it.
	Stopped(s *Sock, err error)
}

// Adopt takes c away from Go's netpoller (a duplicate of its socket; the
// original is closed) and has a loop watch it for h. It fails, with c
// untouched, when no loop is running.
func (g *Group) Adopt(c *net.TCPConn, h SockHandler) (*Sock, error) {
	l := g.pick()
	if l == nil {
		return nil, ErrClosed
	}
	fd, err := dupFD(c)
	if err != nil {
		return nil, fmt.Errorf("duplicating the socket: %w", err)
	}
	s := &Sock{l: l, fd: fd, h: h}
	l.mu.Lock()
	if l.stopping || l.dead.Load() {
		l.mu.Unlock()
		syscall.Close(fd)
		return nil, ErrClosed
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(fd)}
	if err := syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
		l.mu.Unlock()
		syscall.Close(fd)
		return nil, fmt.Errorf("ioloop: epoll_ctl: %w", err)
	}
	s.mask = syscall.EPOLLIN
	l.ends[int32(fd)] = &end{fd: fd, sock: s}
	l.mu.Unlock()
	c.Close() // only now: a failure above leaves the caller its conn
	g.adopted.Add(1)
	return s, nil
}

// Adopted counts the sockets handed to the loops with Adopt so far.
func (g *Group) Adopted() uint64 { return g.adopted.Load() }

// Read reads the socket once without blocking; syscall.EAGAIN when it has
// nothing.
func (s *Sock) Read(p []byte) (int, error) { return rawRead(s.fd, p) }

// Write writes p once without blocking and returns how much the kernel
// took (syscall.EAGAIN counts as 0 and no error). Any goroutine may call
// it; after Close it fails with net.ErrClosed.
func (s *Sock) Write(p []byte) (int, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return 0, net.ErrClosed
	}
	n, err := rawWrite(s.fd, p)
	if err == syscall.EAGAIN || err == syscall.EINTR {
		return 0, nil
	}
	return max(n, 0), err
}

// Shutdown shuts both directions of the socket from any goroutine: the
// loop then finds it ready with an end of stream, so its handler ends the
// connection on its own path. A no-op after Close.
func (s *Sock) Shutdown() {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if !s.closed {
		syscall.Shutdown(s.fd, syscall.SHUT_RDWR)
	}
}

// AfterBatch has f run on the loop's thread once every socket of the
// current round is handled; call it from Ready.
func (s *Sock) AfterBatch(f func()) { s.l.after = append(s.l.after, f) }

// WriteAll writes p whole, waiting in poll(2) for room while the socket
// is full (a blocking system call: never on a loop's thread), until the
// deadline (zero: none) passes with os.ErrDeadlineExceeded. Any goroutine.
func (s *Sock) WriteAll(p []byte, deadline time.Time) (int, error) {
	done := 0
	for {
		n, err := s.Write(p[done:])
		done += n
		if err != nil || done == len(p) {
			return done, err
		}
		wait := time.Second // each poll is short: Release and Close wait for it
		if !deadline.IsZero() {
			left := time.Until(deadline)
			if left <= 0 {
				return done, os.ErrDeadlineExceeded
			}
			wait = min(wait, left)
		}
		s.mu.RLock()
		if !s.closed {
			fds := []unix.PollFd{{Fd: int32(s.fd), Events: unix.POLLOUT}}
			unix.Poll(fds, int(wait/time.Millisecond)+1)
		}
		s.mu.RUnlock()
	}
}

// Detach takes the socket out of its loop, from Ready: the loop calls its
// handler no more and the socket stays open, for Write, WriteAll and
// Shutdown from any goroutine until Release or Close.
func (s *Sock) Detach() {
	if !s.detached {
		s.l.detachSock(s)
	}
}

// Release returns a Go conn over a detached socket (Detach, or after
// Stopped), from any goroutine; the Sock is closed.
func (s *Sock) Release() (*net.TCPConn, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, net.ErrClosed
	}
	s.closed = true
	return fileConn(s.fd)
}

// Close closes a detached socket (Detach, or after Stopped), from any
// goroutine.
func (s *Sock) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		syscall.Close(s.fd)
	}
}

// detachSock takes s out of the epoll set and the loop's table.
func (l *evLoop) detachSock(s *Sock) {
	s.detached = true
	l.mu.Lock()
	if s.mask != 0 {
		syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_DEL, s.fd, nil)
		s.mask = 0
	}
	if e := l.ends[int32(s.fd)]; e != nil && e.sock == s {
		delete(l.ends, int32(s.fd))
	}
	l.mu.Unlock()
}

// handleSock calls s's handler; a panic detaches s and reports it.
func (l *evLoop) handleSock(s *Sock) {
	defer func() {
		if v := recover(); v != nil {
			if !s.detached {
				l.detachSock(s)
			}
			s.h.Stopped(s, guard.Recovered(v))
		}
	}()
	s.h.Ready(s, l.buf)
}

// runAfter runs the AfterBatch functions of the round; a panic in one is
// logged with its stack and the others still run.
func (l *evLoop) runAfter() {
	for i, f := range l.after {
		l.after[i] = nil
		func() {
			defer func() {
				if v := recover(); v != nil {
					p := guard.Recovered(v)
					slog.Error("ioloop: panic after a round", "err", p, "stack", string(p.Stack))
				}
			}()
			f()
		}()
	}
	l.after = l.after[:0]
}

// stopSocks lets every Sock of a stopping loop go, on its thread.
func (l *evLoop) stopSocks(err error) {
	l.mu.Lock()
	var socks []*Sock
	for _, e := range l.ends {
		if e.sock != nil {
			socks = append(socks, e.sock)
		}
	}
	l.mu.Unlock()
	for _, s := range socks {
		l.detachSock(s)
		s.h.Stopped(s, err)
	}
}
