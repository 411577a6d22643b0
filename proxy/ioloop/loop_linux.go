//go:build linux

package ioloop

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/sluice-proxy/sluice/internal/guard"
)

// The event loops move the bytes of plain TCP pipes the way haproxy and
// PgBouncer do: each loop is one goroutine locked to its thread, waiting in
// its own level-triggered epoll set, reading a ready socket once into a
// shared buffer, showing the chunk to the observers' callbacks and writing it
// to the other socket. The goroutine-per-direction path costs, per exchange,
// a read that finds nothing (Go's netpoller is edge-triggered, so a reader
// reads until EAGAIN before it parks) and a park and wake-up through the
// scheduler per hop; a loop costs a read and a write per hop and one
// epoll_wait per batch of ready sockets.
//
// Backpressure: a chunk the destination does not take whole is kept for it
// (at most one read's worth per direction), reading from its source stops,
// and the destination is watched for EPOLLOUT; once the chunk is written,
// reading resumes. An end with nothing to watch is removed from the epoll
// set, so that a hung-up socket cannot spin a level-triggered loop.

const loopBufSize = 64 << 10

// New starts n event loops (n >= 1). The server creates one Group and closes
// it at shutdown; filters get it through their build environment.
func New(n int, opts ...Option) (*Group, error) {
	if n < 1 {
		return nil, fmt.Errorf("ioloop: %d loops", n)
	}
	g := &Group{}
	for _, o := range opts {
		o(g)
	}
	for i := 0; i < n; i++ {
		l, err := newEvLoop(g)
		if err != nil {
			for _, l := range g.loops {
				l.closeFDs()
			}
			return nil, err
		}
		g.loops = append(g.loops, l)
	}
	for _, l := range g.loops {
		g.wg.Add(1)
		go l.run()
	}
	return g, nil
}

// Group is the server's set of event loops.
type Group struct {
	loops []*evLoop
	next  atomic.Uint32
	wg    sync.WaitGroup

	started, bulkBack, failed, adopted atomic.Uint64
	onFail                             func(error)

	// testHookRegistering, when set by a test before Start, runs between
	// the two ends' registrations (a field, not a package variable, so
	// that tests of other Groups run in parallel).
	testHookRegistering func(fl *Flow)
}

// Failed counts the loops stopped by an epoll error.
func (g *Group) Failed() uint64 { return g.failed.Load() }

// Started counts the flows handed to the loops so far.
func (g *Group) Started() uint64 { return g.started.Load() }

// BulkBack counts the flows the loops gave back because they turned bulk.
func (g *Group) BulkBack() uint64 { return g.bulkBack.Load() }

// Len is the number of loops.
func (g *Group) Len() int { return len(g.loops) }

// Close stops the loops: flows still in them fail with ErrClosed. The
// server calls it once its listeners have drained.
func (g *Group) Close() {
	for _, l := range g.loops {
		l.postStop()
	}
	g.wg.Wait()
	for _, l := range g.loops {
		l.closeFDs()
	}
}

// ErrClosed ends the flows of a Group being closed.
var ErrClosed = errors.New("ioloop: event loops closed")

// pick returns a live loop, or nil.
func (g *Group) pick() *evLoop {
	for range g.loops {
		if l := g.loops[int(g.next.Add(1))%len(g.loops)]; !l.dead.Load() {
			return l
		}
	}
	return nil
}

type evLoop struct {
	g     *Group
	epfd  int
	efd   int // eventfd: wakes the loop for its queue
	buf   []byte
	evs   []syscall.EpollEvent
	batch []*end   // the ends of evs, by index
	after []func() // Sock.AfterBatch's, run once the round is handled

	dead atomic.Bool // stopped: closed, or its epoll set failed

	mu       sync.Mutex
	ends     map[int32]*end
	posted   []func() // work for the loop's thread, from other goroutines
	stopping bool     // Close asked the loop to stop
}

// stop ends the loop: on Close, or when its epoll set failed (epoll_wait
// returns only EBADF, EFAULT or EINVAL besides EINTR, none of which a retry
// mends). Its flows fail with err and new connections take another loop or
// the goroutine path. The process carries on.
func (l *evLoop) stop(err error) {
	if err != ErrClosed {
		slog.Error("ioloop: event loop stopped; its connections are closed", "err", err)
		l.g.failed.Add(1)
		if l.g.onFail != nil {
			l.g.onFail(err)
		}
	}
	l.dead.Store(true)
	l.mu.Lock()
	flows := make(map[*Flow]bool, len(l.ends))
	for _, e := range l.ends {
		if e.fl != nil {
			flows[e.fl] = true
		}
	}
	l.mu.Unlock()
	for fl := range flows {
		l.fail(fl, false, err)
	}
	l.stopSocks(err)
}

// wakeFD marks the eventfd in the epoll set (socket numbers are >= 0).
const wakeFD = -1

// postStop asks the loop to stop, and wakes it.
func (l *evLoop) postStop() {
	l.mu.Lock()
	l.stopping = true
	l.mu.Unlock()
	one := [8]byte{1}
	rawWrite(l.efd, one[:])
}

func (l *evLoop) closeFDs() {
	syscall.Close(l.epfd)
	syscall.Close(l.efd)
}

func newEvLoop(g *Group) (*evLoop, error) {
	fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("ioloop: epoll_create1: %w", err)
	}
	efd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("ioloop: eventfd: %w", err)
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: wakeFD}
	if err := syscall.EpollCtl(fd, syscall.EPOLL_CTL_ADD, efd, &ev); err != nil {
		syscall.Close(fd)
		syscall.Close(efd)
		return nil, fmt.Errorf("ioloop: epoll_ctl: %w", err)
	}
	return &evLoop{g: g, epfd: fd, efd: efd, ends: make(map[int32]*end), buf: make([]byte, loopBufSize),
		evs: make([]syscall.EpollEvent, 128), batch: make([]*end, 128)}, nil
}

// post has f run on the loop's thread, and wakes the loop. Work posted to
// a loop that has stopped never runs.
func (l *evLoop) post(f func()) {
	l.mu.Lock()
	l.posted = append(l.posted, f)
	first := len(l.posted) == 1
	l.mu.Unlock()
	if first {
		one := [8]byte{1}
		rawWrite(l.efd, one[:])
	}
}

// postAbort asks the loop to end fl.
func (l *evLoop) postAbort(fl *Flow) {
	l.post(func() {
		if !fl.closed { // ended, or given back, meanwhile
			l.close(fl)
		}
	})
}

// drainPosted runs the work posted, on the loop's goroutine.
func (l *evLoop) drainPosted() {
	var b [8]byte
	rawRead(l.efd, b[:])
	l.mu.Lock()
	q, stopping := l.posted, l.stopping
	l.posted = nil
	l.mu.Unlock()
	if stopping {
		l.stop(ErrClosed)
		return
	}
	for _, f := range q {
		f()
	}
}

// end is one socket of a flow, or a Sock.
type end struct {
	fd      int
	fl      *Flow
	sock    *Sock // set for a Sock's entry in the loop's table; then fl is nil
	peer    *end
	fromUp  bool               // bytes read here go downstream
	onRead  func([]byte) error // sees bytes read from this end
	onWrite func([]byte) error // sees bytes written to this end
	mask    uint32             // events registered; 0: not in the epoll set
	reading bool               // EPOLLIN wanted
	paused  bool               // reading held by a Pause (downstream only)
	eof     bool               // read returned 0
	shut    bool               // SHUT_WR done
	pend    []byte             // bytes waiting to be written to this end
}

// Flow is one connection's two sockets in a loop.
type Flow struct {
	l        *evLoop
	m        Meter
	down, up end
	closed   bool // the loop's goroutine only
	tapless  bool // no observer callback: the splice path may take it back
	pause    *Pause
	bulk     bool // given back for splicing; the sockets stay open
	done     chan struct{}
	err      error // first failure
	errUp    bool  // it happened moving bytes from upstream
	first    int32 // 1: upstream reached EOF first, 2: downstream did

	onDone atomic.Pointer[func()] // OnDone's callback until it runs
}

// dupFD returns a close-on-exec duplicate of c's socket (non-blocking, as
// the original: they share the open file).
func dupFD(c *net.TCPConn) (int, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return -1, err
	}
	nfd := -1
	var derr error
	if err := rc.Control(func(fd uintptr) {
		nfd, derr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return -1, err
	}
	if derr != nil {
		return -1, derr
	}
	return nfd, nil
}

// Start takes both sockets away from Go's netpoller (duplicates them and
// closes the originals) and gives them to a loop. It fails, with nothing
// consumed, when no loop is running; after the duplication a failure (a
// full epoll set) closes the sockets.
func (g *Group) Start(t Taps, up *net.TCPConn, m Meter) (*Flow, error) {
	l := g.pick()
	if l == nil {
		return nil, ErrClosed
	}
	dfd, err := dupFD(t.TCP)
	if err != nil {
		return nil, fmt.Errorf("duplicating the downstream socket: %w", err)
	}
	ufd, err := dupFD(up)
	if err != nil {
		syscall.Close(dfd)
		return nil, fmt.Errorf("duplicating the upstream socket: %w", err)
	}
	// The originals leave Go's epoll set; the duplicates keep the sockets.
	t.TCP.Close()
	up.Close()
	fl := &Flow{l: l, m: m, done: make(chan struct{})}
	fl.down = end{fd: dfd, fl: fl, peer: &fl.up, onRead: t.OnRead, onWrite: t.OnWrite, reading: true}
	fl.up = end{fd: ufd, fl: fl, peer: &fl.down, fromUp: true, reading: true}
	fl.tapless = t.OnRead == nil && t.OnWrite == nil
	fl.pause = t.Pause
	fl.down.paused = fl.pause != nil && fl.pause.held.Load() > 0 // held while the Pending bytes were decoded
	if len(t.Pending) > 0 {
		// Not in a loop yet: this goroutine may write.
		fl.up.pend = append([]byte(nil), t.Pending...)
		fl.down.reading = false
		m.Buffered(false, int64(len(fl.up.pend)))
	}
	if err := l.add(fl); err != nil {
		if len(fl.up.pend) > 0 {
			m.Buffered(false, -int64(len(fl.up.pend)))
		}
		syscall.Close(dfd)
		syscall.Close(ufd)
		return nil, err
	}
	if fl.pause != nil {
		// Only now may a Release post to the loop: the flow is in it. A
		// Release that came before (of a Hold taken before Start, or in a
		// callback the loop already ran) saw no flow, so have the loop
		// look once.
		fl.pause.fl.Store(fl)
		if fl.pause.held.Load() == 0 {
			l.post(func() { l.resume(fl) })
		}
	}
	g.started.Add(1)
	return fl, nil
}

// add registers a new flow's sockets, both, under the loop's lock: the loop
// looks a ready socket's end up under the same lock, so it cannot see, fail
// or close the flow (and free its socket numbers for reuse) until both are
// in its epoll set. Registering one end and then the other outside the lock
// let the loop close the flow in between, so that the second ADD registered
// a closed or, the number reused, another connection's socket.
func (l *evLoop) add(fl *Flow) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopping || l.dead.Load() {
		return ErrClosed
	}
	ends := [2]*end{&fl.down, &fl.up}
	for i, e := range ends {
		m := e.want()
		if m == 0 {
			continue
		}
		ev := syscall.EpollEvent{Events: m, Fd: int32(e.fd)}
		if err := syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_ADD, e.fd, &ev); err != nil {
			// Rare (ENOMEM, ENOSPC): undo, still under the lock.
			if i == 1 && ends[0].mask != 0 {
				syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_DEL, ends[0].fd, nil)
			}
			return fmt.Errorf("ioloop: epoll_ctl: %w", err)
		}
		e.mask = m
		if i == 0 && l.g.testHookRegistering != nil {
			l.g.testHookRegistering(fl)
		}
	}
	l.ends[int32(fl.down.fd)] = &fl.down
	l.ends[int32(fl.up.fd)] = &fl.up
	return nil
}

// want returns the events e needs watched now.
func (e *end) want() uint32 {
	var m uint32
	if e.reading && !e.paused && !e.eof {
		m |= syscall.EPOLLIN
	}
	if len(e.pend) > 0 {
		m |= syscall.EPOLLOUT
	}
	return m
}

// update brings e's registration in line with what it wants.
func (l *evLoop) update(e *end) error {
	w := e.want()
	if w == e.mask {
		return nil
	}
	ev := syscall.EpollEvent{Events: w, Fd: int32(e.fd)}
	var op int
	switch {
	case e.mask == 0:
		op = syscall.EPOLL_CTL_ADD
	case w == 0:
		op = syscall.EPOLL_CTL_DEL
	default:
		op = syscall.EPOLL_CTL_MOD
	}
	if err := syscall.EpollCtl(l.epfd, op, e.fd, &ev); err != nil {
		return fmt.Errorf("epoll_ctl: %w", err)
	}
	e.mask = w
	return nil
}

func (l *evLoop) run() {
	defer l.g.wg.Done()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for !l.dead.Load() {
		n, err := syscall.EpollWait(l.epfd, l.evs, -1)
		if err != nil {
			if errors.Is(err, syscall.EINTR) {
				continue
			}
			l.stop(fmt.Errorf("epoll_wait: %w", err))
			return
		}
		// Find the batch's ends under one lock. An end whose flow ends
		// earlier in the batch is skipped by its closed flag, so a socket
		// number that a new flow took meanwhile is never confused with it.
		l.mu.Lock()
		for i := 0; i < n; i++ {
			l.batch[i] = l.ends[l.evs[i].Fd]
		}
		l.mu.Unlock()
		for i := 0; i < n; i++ {
			ev, e := l.evs[i], l.batch[i]
			switch {
			case ev.Fd == wakeFD:
				l.drainPosted()
			case e == nil:
			case e.sock != nil:
				if !e.sock.detached {
					l.handleSock(e.sock)
				}
			case !e.fl.closed:
				l.handleContained(e, ev.Events)
			}
		}
		if len(l.after) > 0 {
			l.runAfter()
		}
	}
}

// handleContained handles one event; a panic in it (an observer's callback,
// a codec it calls) fails that flow only, with a *guard.PanicError that the
// pipe's goroutine reports through its session.
func (l *evLoop) handleContained(e *end, events uint32) {
	defer func() {
		if v := recover(); v != nil {
			l.fail(e.fl, e.fromUp, guard.Recovered(v))
		}
	}()
	l.handle(e, events)
}

func (l *evLoop) handle(e *end, events uint32) {
	fl := e.fl
	if len(e.pend) > 0 && events&(syscall.EPOLLOUT|syscall.EPOLLERR|syscall.EPOLLHUP) != 0 {
		l.flush(e)
		if fl.closed {
			return
		}
	}
	if e.reading && !e.paused && !e.eof && events&(syscall.EPOLLIN|syscall.EPOLLERR|syscall.EPOLLHUP) != 0 {
		l.read(e)
	}
}

// read reads e once and passes the chunk on.
func (l *evLoop) read(e *end) {
	fl := e.fl
	n, err := rawRead(e.fd, l.buf)
	switch {
	case err == syscall.EAGAIN:
		return
	case err != nil:
		l.fail(fl, e.fromUp, err)
		return
	case n == 0:
		e.eof = true
		if fl.first == 0 {
			fl.first = 2
			if e.fromUp {
				fl.first = 1
			}
		}
		if e.shut && len(e.peer.pend) == 0 {
			// The other direction is already done: this EOF ends the
			// flow. Its close sends the FIN that a SHUT_WR would, so the
			// SHUT_WR and the registration change are skipped (two
			// syscalls of a short connection's ~20).
			l.close(fl)
			return
		}
		if err := l.update(e); err != nil {
			l.fail(fl, e.fromUp, err)
			return
		}
		if len(e.peer.pend) == 0 {
			l.shutWrite(e.peer)
		}
		return
	}
	p := l.buf[:n]
	if e.onRead != nil {
		if err := e.onRead(p); err != nil {
			l.fail(fl, e.fromUp, err)
			return
		}
		if fl.pause != nil && !e.fromUp && fl.pause.held.Load() > 0 {
			// The callback holds the connection (a parse off the loop):
			// this chunk goes on, the next waits for Release.
			e.paused = true
			defer l.applyPause(e)
		}
	}
	dst := e.peer
	if dst.onWrite != nil {
		if err := dst.onWrite(p); err != nil {
			l.fail(fl, e.fromUp, err)
			return
		}
	}
	w, err := rawWrite(dst.fd, p)
	if err == syscall.EAGAIN {
		w, err = 0, nil
	}
	if err != nil {
		l.fail(fl, e.fromUp, err)
		return
	}
	fl.m.Moved(e.fromUp, int64(w))
	if w == n && n == len(l.buf) && fl.tapless && fl.quiet() {
		// A read filled the buffer: a bulk transfer, which the kernel
		// moves better (splice) on the goroutine path.
		l.giveBack(fl)
		return
	}
	if w < n {
		dst.pend = append(dst.pend[:0], p[w:]...)
		fl.m.Buffered(e.fromUp, int64(len(dst.pend)))
		e.reading = false
		if err := l.update(e); err != nil {
			l.fail(fl, e.fromUp, err)
			return
		}
		if err := l.update(dst); err != nil {
			l.fail(fl, e.fromUp, err)
		}
	}
}

// applyPause takes a paused end's EPOLLIN out of its registration, unless
// the flow ended meanwhile.
func (l *evLoop) applyPause(e *end) {
	if e.fl.closed {
		return
	}
	if err := l.update(e); err != nil {
		l.fail(e.fl, e.fromUp, err)
	}
}

// resume undoes a Pause's hold on fl's downstream socket, on the loop's
// thread; a hold taken again meanwhile keeps it.
func (l *evLoop) resume(fl *Flow) {
	if fl.closed || !fl.down.paused || fl.pause.held.Load() > 0 {
		return
	}
	fl.down.paused = false
	if err := l.update(&fl.down); err != nil {
		l.fail(fl, false, err)
	}
}

// flush writes what e has pending; once all is written it resumes reading
// from e's peer, or passes on the peer's EOF.
func (l *evLoop) flush(e *end) {
	fl := e.fl
	src := e.peer
	w, err := rawWrite(e.fd, e.pend)
	if err == syscall.EAGAIN {
		return
	}
	if err != nil {
		l.fail(fl, src.fromUp, err)
		return
	}
	fl.m.Moved(src.fromUp, int64(w))
	fl.m.Buffered(src.fromUp, -int64(w))
	if w < len(e.pend) {
		e.pend = e.pend[:copy(e.pend, e.pend[w:])]
		return
	}
	e.pend = e.pend[:0]
	if cap(e.pend) > 4<<10 {
		e.pend = nil
	}
	if err := l.update(e); err != nil {
		l.fail(fl, src.fromUp, err)
		return
	}
	if src.eof {
		l.shutWrite(e)
		return
	}
	src.reading = true
	if err := l.update(src); err != nil {
		l.fail(fl, src.fromUp, err)
	}
}

// shutWrite passes an EOF on (half-close), and ends the flow when both
// directions are done.
func (l *evLoop) shutWrite(e *end) {
	if !e.shut {
		e.shut = true
		syscall.Shutdown(e.fd, syscall.SHUT_WR)
	}
	fl := e.fl
	if fl.down.shut && fl.up.shut {
		l.close(fl)
	}
}

// fail ends the flow on an error; fromUp says which way the bytes went.
func (l *evLoop) fail(fl *Flow, fromUp bool, err error) {
	if fl.err == nil {
		fl.err, fl.errUp = err, fromUp
	}
	l.close(fl)
}

// detach takes the flow's sockets out of the map and, with unregister, out
// of the epoll set, and marks it ended for the loop; the sockets stay open.
func (l *evLoop) detach(fl *Flow, unregister bool) {
	fl.closed = true
	l.mu.Lock()
	for _, e := range []*end{&fl.down, &fl.up} {
		if e.mask != 0 && unregister {
			syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_DEL, e.fd, nil)
		}
		e.mask = 0
		delete(l.ends, int32(e.fd))
	}
	l.mu.Unlock()
}

// close ends the flow and closes its sockets. The loop holds the only
// descriptor of each socket (Start closed the originals), so the close
// takes it out of the epoll set without an EPOLL_CTL_DEL first (haproxy
// makes none either). A child forked for a hot restart holds copies until
// its exec; in that window a closed socket's events still come, under a
// number that no flow has (ignored, the loop turning until the exec) or
// that a new flow took (a read or write that finds nothing, EAGAIN).
func (l *evLoop) close(fl *Flow) {
	if fl.closed {
		return
	}
	l.detach(fl, false)
	for _, e := range []*end{&fl.down, &fl.up} {
		if len(e.pend) > 0 {
			fl.m.Buffered(e.peer.fromUp, -int64(len(e.pend)))
			e.pend = nil
		}
		syscall.Close(e.fd)
	}
	fl.ended()
}

// quiet reports that nothing is pending or half-closed, so the goroutine
// path can take the sockets over as they are.
func (fl *Flow) quiet() bool {
	return !fl.down.eof && !fl.up.eof && !fl.down.shut && !fl.up.shut && len(fl.down.pend) == 0 && len(fl.up.pend) == 0
}

// giveBack takes the flow out of the loop without closing its sockets.
func (l *evLoop) giveBack(fl *Flow) {
	l.detach(fl, true)
	fl.bulk = true
	fl.l.g.bulkBack.Add(1)
	fl.ended()
}

// Abort ends the flow from outside the loop (drain, a timeout).
func (fl *Flow) Abort() { fl.l.postAbort(fl) }

// Done is closed once the flow has ended or was given back (Bulk).
func (fl *Flow) Done() <-chan struct{} { return fl.done }

// Err returns, after Done, the first failure and whether it happened moving
// bytes from upstream; nil for a flow that ended at both EOFs.
func (fl *Flow) Err() (error, bool) { return fl.err, fl.errUp }

// First returns, after Done, which side reached EOF first: 1 upstream,
// 2 downstream, 0 neither.
func (fl *Flow) First() int32 { return fl.first }

// Bulk reports, after Done, that the loop gave the flow back because a read
// filled its buffer: a bulk transfer the kernel moves better (splice).
// TakeBack returns its sockets.
func (fl *Flow) Bulk() bool { return fl.bulk }

// TakeBack returns Go conns over a bulk flow's sockets, consuming them.
func (fl *Flow) TakeBack() (down, up *net.TCPConn, err error) {
	down, err = fileConn(fl.down.fd)
	if err != nil {
		syscall.Close(fl.up.fd)
		return nil, nil, err
	}
	up, err = fileConn(fl.up.fd)
	if err != nil {
		down.Close()
		return nil, nil, err
	}
	return down, up, nil
}

// fileConn makes a Go conn of a socket, consuming fd.
func fileConn(fd int) (*net.TCPConn, error) {
	f := os.NewFile(uintptr(fd), "tcp")
	c, err := net.FileConn(f) // a duplicate, in Go's netpoller
	f.Close()
	if err != nil {
		return nil, err
	}
	tc, ok := c.(*net.TCPConn)
	if !ok {
		c.Close()
		return nil, errors.New("not a TCP socket")
	}
	return tc, nil
}

// rawRead and rawWrite call read(2) and write(2) on a non-blocking socket
// without telling the scheduler: they never block.
func rawRead(fd int, p []byte) (int, error) {
	r, _, e := syscall.RawSyscall(syscall.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

func rawWrite(fd int, p []byte) (int, error) {
	r, _, e := syscall.RawSyscall(syscall.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

// wake has the loop look at a released Pause's flow.
func (p *Pause) wake() {
	if fl := p.fl.Load(); fl != nil {
		fl.l.post(func() { fl.l.resume(fl) })
	}
}
