//go:build linux

package tcpproxy

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/sluice-proxy/sluice/filters"
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

// The loops start with the first connection that can use one; their number
// is fixed then. SetIOLoops(0) afterwards sends new connections down the
// goroutine path again (the tests run both).
var (
	ioLoopsN  atomic.Int32
	loopsOnce sync.Once
	loops     []*evLoop
	loopsNext atomic.Uint32

	flowsStarted  atomic.Uint64 // for tests
	flowsBulkBack atomic.Uint64
)

func init() { ioLoopsN.Store(-1) }

// SetIOLoops sets how many event loops move plain TCP bytes: n > 0 loops,
// < 0 the default (defaultLoops), 0 none (a goroutine per direction). A count
// given after the loops started only matters as zero or not.
func SetIOLoops(n int) { ioLoopsN.Store(int32(n)) }

// defaultLoops is one loop per two cores, at least one. A loop per core
// measured worse on a 2-core box shared with the database and the clients
// (bench/postgres.sh -S: 30133 tps with two loops, 39332 with one, in one
// run): each loop then sees fewer ready sockets per epoll_wait and its
// thread sleeps and wakes more often, and the loops leave no core to the
// rest of the process (accepts, handshakes, other filters' goroutines).
func defaultLoops(procs int) int { return max(1, (procs+1)/2) }

// pickLoop returns the loop for a new flow, or nil for the goroutine path.
func pickLoop() *evLoop {
	n := int(ioLoopsN.Load())
	if n == 0 {
		return nil
	}
	loopsOnce.Do(func() {
		if n < 0 {
			n = defaultLoops(runtime.GOMAXPROCS(0))
		}
		for i := 0; i < n; i++ {
			l, err := newEvLoop()
			if err != nil {
				slog.Warn("tcp_proxy: no event loops, using a goroutine per direction", "err", err)
				for _, l := range loops {
					syscall.Close(l.epfd)
					syscall.Close(l.efd)
				}
				loops = nil
				return
			}
			loops = append(loops, l)
		}
		for _, l := range loops {
			go l.run()
		}
	})
	for range loops {
		if l := loops[int(loopsNext.Add(1))%len(loops)]; !l.dead.Load() {
			return l
		}
	}
	return nil
}

type evLoop struct {
	epfd  int
	efd   int // eventfd: wakes the loop for its queue
	buf   []byte
	evs   []syscall.EpollEvent
	batch []*end // the ends of evs, by index

	dead atomic.Bool // stopped after an epoll failure

	mu     sync.Mutex
	ends   map[int32]*end
	aborts []*flow // flows to end, from other goroutines
}

// stop ends a loop whose epoll set failed (epoll_wait returns only
// EBADF, EFAULT or EINVAL besides EINTR, none of which a retry mends): its
// flows fail with err and new connections take another loop or the
// goroutine path. The process carries on.
func (l *evLoop) stop(err error) {
	slog.Error("tcp_proxy: event loop stopped; its connections are closed", "err", err)
	l.dead.Store(true)
	l.mu.Lock()
	flows := make(map[*flow]bool, len(l.ends))
	for _, e := range l.ends {
		flows[e.fl] = true
	}
	l.mu.Unlock()
	for fl := range flows {
		l.fail(fl, false, err)
	}
}

// wakeFD marks the eventfd in the epoll set (socket numbers are >= 0).
const wakeFD = -1

func newEvLoop() (*evLoop, error) {
	fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("tcp_proxy: epoll_create1: %w", err)
	}
	efd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("tcp_proxy: eventfd: %w", err)
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: wakeFD}
	if err := syscall.EpollCtl(fd, syscall.EPOLL_CTL_ADD, efd, &ev); err != nil {
		syscall.Close(fd)
		syscall.Close(efd)
		return nil, fmt.Errorf("tcp_proxy: epoll_ctl: %w", err)
	}
	return &evLoop{epfd: fd, efd: efd, ends: make(map[int32]*end), buf: make([]byte, loopBufSize),
		evs: make([]syscall.EpollEvent, 128), batch: make([]*end, 128)}, nil
}

// postAbort asks the loop to end fl, and wakes it.
func (l *evLoop) postAbort(fl *flow) {
	l.mu.Lock()
	l.aborts = append(l.aborts, fl)
	first := len(l.aborts) == 1
	l.mu.Unlock()
	if first {
		one := [8]byte{1}
		rawWrite(l.efd, one[:])
	}
}

// drainAborts ends the flows asked for, on the loop's goroutine.
func (l *evLoop) drainAborts() {
	var b [8]byte
	rawRead(l.efd, b[:])
	l.mu.Lock()
	q := l.aborts
	l.aborts = nil
	l.mu.Unlock()
	for _, fl := range q {
		if fl.closed { // ended, or given back, meanwhile
			continue
		}
		if p := fl.addErr.Load(); p != nil {
			l.fail(fl, false, fmt.Errorf("epoll_ctl: %w", *p))
		} else {
			l.close(fl)
		}
	}
}

// end is one socket of a flow.
type end struct {
	fd      int
	fl      *flow
	peer    *end
	fromUp  bool               // bytes read here go downstream
	onRead  func([]byte) error // sees bytes read from this end
	onWrite func([]byte) error // sees bytes written to this end
	mask    uint32             // events registered; 0: not in the epoll set
	reading bool               // EPOLLIN wanted
	eof     bool               // read returned 0
	shut    bool               // SHUT_WR done
	pend    []byte             // bytes waiting to be written to this end
}

// flow is one pipe's two sockets in a loop.
type flow struct {
	l        *evLoop
	pp       *pipe
	down, up end
	closed   bool // the loop's goroutine only
	tapless  bool // no observer callback: the splice path may take it back
	bulk     bool // given back for splicing; the sockets stay open
	addErr   atomic.Pointer[error]
	done     chan struct{}
	err      error // first failure
	errUp    bool  // it happened moving bytes from upstream
	first    int32 // 1: upstream reached EOF first, 2: downstream did
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

// startFlow takes both sockets away from Go's netpoller (duplicates them and
// closes the originals) and gives them to loop l.
func startFlow(l *evLoop, pp *pipe, t filters.Taps, up *net.TCPConn) (*flow, error) {
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
	fl := &flow{l: l, pp: pp, done: make(chan struct{})}
	fl.down = end{fd: dfd, fl: fl, peer: &fl.up, onRead: t.OnRead, onWrite: t.OnWrite, reading: true}
	fl.up = end{fd: ufd, fl: fl, peer: &fl.down, fromUp: true, reading: true}
	fl.tapless = t.OnRead == nil && t.OnWrite == nil
	if len(t.Pending) > 0 {
		// Not in a loop yet: this goroutine may write.
		fl.up.pend = append([]byte(nil), t.Pending...)
		fl.down.reading = false
		pp.bufferedGauge(false)(int64(len(fl.up.pend)))
	}
	flowsStarted.Add(1)
	l.add(fl)
	return fl, nil
}

// add registers a new flow's sockets from the pipe's goroutine: every field
// is set before the sockets enter the epoll set and the loop finds the ends
// through the map, under mu, which orders the two goroutines.
func (l *evLoop) add(fl *flow) {
	ends := [2]*end{&fl.down, &fl.up}
	var masks [2]uint32
	for i, e := range ends {
		e.mask = e.want()
		masks[i] = e.mask
	}
	l.mu.Lock()
	l.ends[int32(fl.down.fd)] = &fl.down
	l.ends[int32(fl.up.fd)] = &fl.up
	l.mu.Unlock()
	// From here on the ends are the loop's: only the locals are read.
	for i, e := range ends {
		if masks[i] == 0 {
			continue
		}
		ev := syscall.EpollEvent{Events: masks[i], Fd: int32(e.fd)}
		if err := syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_ADD, e.fd, &ev); err != nil {
			// Rare (ENOMEM, ENOSPC). The loop may already serve the
			// other socket, so let it close the flow (its EPOLL_CTL_DEL
			// of this socket then fails harmlessly).
			fl.addErr.Store(&err)
			l.postAbort(fl)
			return
		}
	}
}

// want returns the events e needs watched now.
func (e *end) want() uint32 {
	var m uint32
	if e.reading && !e.eof {
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
	runtime.LockOSThread()
	for {
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
				l.drainAborts()
			case e != nil && !e.fl.closed:
				l.handleContained(e, ev.Events)
			}
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
	if e.reading && !e.eof && events&(syscall.EPOLLIN|syscall.EPOLLERR|syscall.EPOLLHUP) != 0 {
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
	fl.pp.count(e.fromUp, int64(w))
	if w == n && n == len(l.buf) && fl.tapless && fl.quiet() {
		// A read filled the buffer: a bulk transfer, which the kernel
		// moves better (splice) on the goroutine path.
		l.giveBack(fl)
		return
	}
	if w < n {
		dst.pend = append(dst.pend[:0], p[w:]...)
		fl.pp.bufferedGauge(e.fromUp)(int64(len(dst.pend)))
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
	fl.pp.count(src.fromUp, int64(w))
	fl.pp.bufferedGauge(src.fromUp)(-int64(w))
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
func (l *evLoop) fail(fl *flow, fromUp bool, err error) {
	if fl.err == nil {
		fl.err, fl.errUp = err, fromUp
	}
	l.close(fl)
}

// detach takes the flow's sockets out of the epoll set and the map, and
// marks it ended for the loop; the sockets stay open.
func (l *evLoop) detach(fl *flow) {
	fl.closed = true
	l.mu.Lock()
	for _, e := range []*end{&fl.down, &fl.up} {
		if e.mask != 0 {
			syscall.EpollCtl(l.epfd, syscall.EPOLL_CTL_DEL, e.fd, nil)
			e.mask = 0
		}
		delete(l.ends, int32(e.fd))
	}
	l.mu.Unlock()
}

// close ends the flow and closes its sockets.
func (l *evLoop) close(fl *flow) {
	if fl.closed {
		return
	}
	l.detach(fl)
	for _, e := range []*end{&fl.down, &fl.up} {
		if len(e.pend) > 0 {
			fl.pp.bufferedGauge(e.peer.fromUp)(-int64(len(e.pend)))
			e.pend = nil
		}
		syscall.Close(e.fd)
	}
	close(fl.done)
}

// quiet reports that nothing is pending or half-closed, so the goroutine
// path can take the sockets over as they are.
func (fl *flow) quiet() bool {
	return !fl.down.eof && !fl.up.eof && !fl.down.shut && !fl.up.shut && len(fl.down.pend) == 0 && len(fl.up.pend) == 0
}

// giveBack takes the flow out of the loop without closing its sockets.
func (l *evLoop) giveBack(fl *flow) {
	l.detach(fl)
	fl.bulk = true
	flowsBulkBack.Add(1)
	close(fl.done)
}

// abort ends the flow from outside the loop (drain, a timeout).
func (fl *flow) abort() { fl.l.postAbort(fl) }

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
