//go:build linux

package ioloop

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sluice-proxy/sluice/internal/poll"
)

// meter counts what a flow reports.
type meter struct{ moved, buffered atomic.Int64 }

func (m *meter) Moved(_ bool, n int64)    { m.moved.Add(n) }
func (m *meter) Buffered(_ bool, d int64) { m.buffered.Add(d) }

// pair returns the two ends of a fresh loopback TCP connection.
func pair(t *testing.T, ln net.Listener) (client, server *net.TCPConn) {
	t.Helper()
	acc := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			acc <- nil
			return
		}
		acc <- c
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s := <-acc
	if s == nil {
		t.Fatal("accept failed")
	}
	return c.(*net.TCPConn), s.(*net.TCPConn)
}

// TestChurnWithResets is the registration stress test: many flows start at
// once on one loop while others end by resets, so socket numbers are freed
// and reused between one flow's registration and the next. Every flow must
// end, the ones that were not reset must echo exactly, no flow may fail on
// an epoll_ctl error (a foreign or closed socket in the set), and the loop's
// table must be empty afterwards. Run it under -race.
func TestChurnWithResets(t *testing.T) {
	t.Parallel()
	g, err := New(1)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()

	const workers, rounds = 8, 150
	var wg sync.WaitGroup
	var echoed, reset atomic.Int64
	errs := make(chan error, workers*rounds)
	for w := range workers {
		wg.Add(1)
		// Each worker accepts on listeners of its own, so that its dials
		// and accepts pair up.
		lnDown, _ := net.Listen("tcp", "127.0.0.1:0")
		lnUp, _ := net.Listen("tcp", "127.0.0.1:0")
		defer lnDown.Close()
		defer lnUp.Close()
		go func() {
			defer wg.Done()
			for r := range rounds {
				client, down := pair(t, lnDown)
				upSide, up := pair(t, lnUp) // upSide plays the server: it echoes
				go func() { io.Copy(upSide, upSide); upSide.CloseWrite() }()
				m := &meter{}
				msg := []byte(fmt.Sprintf("worker %d round %d", w, r))
				kind := (w + r) % 3
				if kind == 0 {
					// Reset before the flow starts: its downstream socket
					// is ready with the error the moment it enters the
					// epoll set, so the loop fails the flow (and frees
					// both socket numbers for the other workers' next
					// sockets) as early as it is allowed to.
					client.SetLinger(0)
					client.Close()
				}
				fl, err := g.Start(Taps{TCP: down, OnRead: func([]byte) error { return nil }}, up, m)
				if err != nil {
					errs <- fmt.Errorf("start: %w", err)
					client.Close()
					upSide.Close()
					continue
				}
				if kind != 2 {
					// A reset right away: the loop fails the flow while
					// other workers register theirs.
					if kind == 1 {
						client.SetLinger(0)
						client.Write(msg)
						client.Close()
					}
					<-fl.Done()
					reset.Add(1)
				} else {
					client.Write(msg)
					client.CloseWrite()
					client.SetReadDeadline(time.Now().Add(20 * time.Second))
					got, err := io.ReadAll(client)
					<-fl.Done()
					if ferr, _ := fl.Err(); ferr != nil {
						errs <- fmt.Errorf("flow failed: %w", ferr)
					} else if err != nil || !bytes.Equal(got, msg) {
						errs <- fmt.Errorf("echo %q, %v; want %q", got, err, msg)
					} else {
						echoed.Add(1)
					}
					client.Close()
				}
				if ferr, _ := fl.Err(); ferr != nil && (errors.Is(ferr, syscall.EEXIST) || errors.Is(ferr, syscall.EBADF) || errors.Is(ferr, syscall.ENOENT)) {
					errs <- fmt.Errorf("epoll registration error: %w", ferr)
				}
				upSide.Close()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	l := g.loops[0]
	l.mu.Lock()
	left := len(l.ends)
	l.mu.Unlock()
	if left != 0 {
		t.Errorf("%d ends left in the loop's table", left)
	}
	if echoed.Load()+reset.Load() != workers*rounds {
		t.Errorf("echoed %d + reset %d != %d flows", echoed.Load(), reset.Load(), workers*rounds)
	}
	if g.Started() != workers*rounds {
		t.Errorf("started %d flows, want %d", g.Started(), workers*rounds)
	}
}

// TestCloseFailsFlows: closing the group ends the flows still in it with
// ErrClosed, and a Start after Close fails without consuming the sockets.
func TestCloseFailsFlows(t *testing.T) {
	t.Parallel()
	g, err := New(2)
	if err != nil {
		t.Fatal(err)
	}
	lnDown, _ := net.Listen("tcp", "127.0.0.1:0")
	lnUp, _ := net.Listen("tcp", "127.0.0.1:0")
	defer lnDown.Close()
	defer lnUp.Close()
	client, down := pair(t, lnDown)
	defer client.Close()
	upSide, up := pair(t, lnUp)
	defer upSide.Close()
	fl, err := g.Start(Taps{TCP: down}, up, &meter{})
	if err != nil {
		t.Fatal(err)
	}
	g.Close()
	<-fl.Done()
	if ferr, _ := fl.Err(); !errors.Is(ferr, ErrClosed) {
		t.Fatalf("flow error %v, want ErrClosed", ferr)
	}
	c2, d2 := pair(t, lnDown)
	defer c2.Close()
	u2, up2 := pair(t, lnUp)
	defer u2.Close()
	if _, err := g.Start(Taps{TCP: d2}, up2, &meter{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Start after Close: %v, want ErrClosed", err)
	}
	if _, err := d2.Write([]byte("x")); err != nil {
		t.Fatalf("the sockets of a refused Start were consumed: %v", err)
	}
}

// TestLoopCannotEndAFlowBeingRegistered: the client has reset before the
// flow starts, so the loop fails the flow as soon as its first socket is in
// the epoll set. Between the two registrations the hook gives the loop every
// chance to do so; it must not manage to (it would free the second socket's
// number before its registration, which then adds a closed or another
// connection's socket), and afterwards the flow fails with the reset.
func TestLoopCannotEndAFlowBeingRegistered(t *testing.T) {
	t.Parallel()
	g, err := New(1)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	lnDown, _ := net.Listen("tcp", "127.0.0.1:0")
	lnUp, _ := net.Listen("tcp", "127.0.0.1:0")
	defer lnDown.Close()
	defer lnUp.Close()
	var endedEarly atomic.Bool
	g.testHookRegistering = func(fl *Flow) {
		select {
		case <-fl.done:
			endedEarly.Store(true)
		case <-time.After(300 * time.Millisecond): // the loop's chance
		}
	}
	for range 5 {
		client, down := pair(t, lnDown)
		upSide, up := pair(t, lnUp)
		client.SetLinger(0)
		client.Close() // RST: the down socket is ready with an error
		fl, err := g.Start(Taps{TCP: down}, up, &meter{})
		if err != nil {
			t.Fatal(err)
		}
		<-fl.Done()
		upSide.Close()
		if endedEarly.Load() {
			t.Fatal("the loop ended the flow between its two registrations")
		}
		if ferr, _ := fl.Err(); !errors.Is(ferr, syscall.ECONNRESET) {
			t.Fatalf("flow error %v, want the client's reset", ferr)
		}
	}
}

// TestEpollFailureStopsOneLoop: a loop whose epoll_wait fails (here its
// epoll descriptor is made an eventfd: EINVAL) stops alone. Its flow fails
// with the epoll error, the failure is counted and reported, the process
// carries on, and new flows go to the loop still running and are served.
func TestEpollFailureStopsOneLoop(t *testing.T) {
	t.Parallel()
	reported := make(chan error, 1)
	g, err := New(2, OnLoopFailure(func(err error) { reported <- err }))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	lnDown, _ := net.Listen("tcp", "127.0.0.1:0")
	lnUp, _ := net.Listen("tcp", "127.0.0.1:0")
	defer lnDown.Close()
	defer lnUp.Close()
	client, down := pair(t, lnDown)
	defer client.Close()
	upSide, up := pair(t, lnUp)
	defer upSide.Close()
	fl, err := g.Start(Taps{TCP: down}, up, &meter{})
	if err != nil {
		t.Fatal(err)
	}
	broken := fl.l
	// The loop's epoll descriptor now names an eventfd: its next
	// epoll_wait fails. The wake-up makes it call epoll_wait again.
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(efd)
	if err := unix.Dup3(efd, broken.epfd, unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	one := [8]byte{1}
	rawWrite(broken.efd, one[:])

	<-fl.Done()
	if ferr, _ := fl.Err(); ferr == nil || !errors.Is(ferr, syscall.EINVAL) {
		t.Fatalf("flow error %v, want the loop's epoll_wait EINVAL", ferr)
	}
	if rerr := <-reported; !errors.Is(rerr, syscall.EINVAL) {
		t.Fatalf("reported %v", rerr)
	}
	if g.Failed() != 1 {
		t.Fatalf("Failed() = %d, want 1", g.Failed())
	}
	for i := range 4 {
		c, d := pair(t, lnDown)
		u, up := pair(t, lnUp)
		go func() { io.Copy(u, u); u.CloseWrite() }()
		f, err := g.Start(Taps{TCP: d}, up, &meter{})
		if err != nil {
			t.Fatalf("start %d after the failure: %v", i, err)
		}
		if f.l == broken {
			t.Fatalf("flow %d went to the stopped loop", i)
		}
		msg := []byte(fmt.Sprint("after the failure ", i))
		c.Write(msg)
		c.CloseWrite()
		c.SetReadDeadline(time.Now().Add(20 * time.Second))
		got, err := io.ReadAll(c)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("echo %q, %v; want %q", got, err, msg)
		}
		<-f.Done()
		c.Close()
		u.Close()
	}
}

// barrier returns once the loop has run everything posted before it.
func (l *evLoop) barrier() {
	done := make(chan struct{})
	l.post(func() { close(done) })
	<-done
}

// inq returns the bytes waiting unread in a socket's receive queue.
func inq(t *testing.T, fd int) int {
	t.Helper()
	n, err := unix.IoctlGetInt(fd, unix.SIOCINQ)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func inqConn(t *testing.T, c *net.TCPConn) int {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	n := -1
	rc.Control(func(fd uintptr) { n = inq(t, int(fd)) })
	return n
}

// readN reads exactly len(want) bytes and compares them.
func readN(t *testing.T, c net.Conn, want string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got); err != nil || string(got) != want {
		t.Fatalf("read %q, %v; want %q", got, err, want)
	}
}

// TestPauseHoldsOneClient: a callback's Hold lets the chunk it saw go on
// and stops the loop reading that client (the next bytes stay unread in its
// socket through whole loop turns) while another flow on the same loop is
// served; Release resumes it in order. A Hold taken before Start (while the
// Pending bytes were decoded) starts the flow held.
func TestPauseHoldsOneClient(t *testing.T) {
	t.Parallel()
	g, err := New(1)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	lnDown, _ := net.Listen("tcp", "127.0.0.1:0")
	lnUp, _ := net.Listen("tcp", "127.0.0.1:0")
	defer lnDown.Close()
	defer lnUp.Close()

	for _, before := range []bool{false, true} {
		client, down := pair(t, lnDown)
		upSide, up := pair(t, lnUp)
		p := &Pause{}
		taps := Taps{TCP: down, Pause: p, OnRead: func(b []byte) error {
			if bytes.Contains(b, []byte("hold")) {
				p.Hold()
			}
			return nil
		}}
		if before {
			taps.Pending = []byte("hold")
			p.Hold()
		}
		fl, err := g.Start(taps, up, &meter{})
		if err != nil {
			t.Fatal(err)
		}
		if !before {
			client.Write([]byte("hold"))
		}
		readN(t, upSide, "hold")
		client.Write([]byte("more"))
		poll.Eventually(t, 10*time.Second, func() bool { return inq(t, fl.down.fd) == 4 }, "the client's bytes did not arrive")
		fl.l.barrier()
		fl.l.barrier()
		if n, m := inq(t, fl.down.fd), inqConn(t, upSide); n != 4 || m != 0 {
			t.Fatalf("held flow: %d bytes unread at the client's socket, %d passed upstream; want 4 and 0", n, m)
		}

		// Another flow on the same loop is served meanwhile.
		c2, d2 := pair(t, lnDown)
		u2, up2 := pair(t, lnUp)
		go func() { io.Copy(u2, u2); u2.CloseWrite() }()
		fl2, err := g.Start(Taps{TCP: d2}, up2, &meter{})
		if err != nil {
			t.Fatal(err)
		}
		c2.Write([]byte("other"))
		readN(t, c2, "other")
		c2.Close()
		<-fl2.Done()
		u2.Close()

		p.Release()
		readN(t, upSide, "more")
		client.Close()
		upSide.Close()
		<-fl.Done()
	}
}
