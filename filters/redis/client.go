package redis

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/sluice-proxy/sluice/codec/redis"
	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/proxy/ioloop"
)

// client is one downstream connection: a reader goroutine (run) that parses
// and dispatches commands, and replies sent in order.
//
// Replies take the shortest way out: whoever completes the oldest pending
// reply (usually an upstream connection's reader) writes every ready reply
// to the client at once with one non-blocking write, as an event-loop proxy
// does, so a lone request costs two goroutine wake-ups, not four. Whatever
// that write cannot send (a slow client, a TLS or wrapped connection) goes
// to the client's writer goroutine, which blocks for it. The writing flag
// makes the two exclusive and keeps the bytes in order.
type client struct {
	p    *Proxy
	s    *filters.Session
	conn filters.Conn
	id   uint64
	rd   *redis.Reader

	mu      sync.Mutex
	cond    *sync.Cond // broadcast when the queue shrinks or the writer stops
	queue   slotRing
	max     int
	closing bool   // the reader is done: the writer exits once the queue is empty
	broken  bool   // the writer failed: replies can no longer be delivered
	writing bool   // a goroutine holds the writer role: it owns out and writes to the client
	out     buffer // reply bytes owed to the client, in order: the ready batch and a partial write's rest
	wake    chan struct{}
	// The writer goroutine starts at the first notify; wdone closes when
	// it ends.
	wstarted atomic.Bool
	wdone    chan struct{}
	raw      syscall.RawConn // non-nil for a plain TCP client: direct writes
	waiters  int             // goroutines waiting on cond for writing or txHeld to drop
	// direct: a plain TCP client, whose replies go out by direct writes
	// (through raw, or wsock while an event loop holds the socket).
	direct bool
	// wsock is the client's socket while an event loop holds it (loop.go);
	// the writer role guards it, c.mu its changes. aborted: the connection
	// was closed, which a socket taken back later must be too.
	wsock   *ioloop.Sock
	aborted bool
	orig    filters.Conn // the conn the client came with

	// txHeld is the reply bytes settled for this client and not yet
	// written (downstream_cx_tx_bytes_buffered); the reader stops while it
	// exceeds the buffer limit. It turns negative for good when the client
	// ends, so that replies settled later are not counted.
	txHeld atomic.Int64
	rxHeld int // the read buffer's size as last reported; reader only
	// reqHeld is the request bytes queued upstream whose reply has not
	// come yet (counted in downstream_cx_rx_bytes_buffered with the read
	// buffer); it ends negative like txHeld. heldWait is set while the
	// reader waits for held bytes to drop.
	reqHeld  atomic.Int64
	heldWait atomic.Bool

	// Request timeout (large.go): the read deadline is armed when a
	// partial command is buffered, for the command that seq counts.
	seq      uint64
	armedSeq uint64
	armed    bool

	authed   bool
	tx       *txState              // non-nil between MULTI and EXEC/DISCARD
	pinned   map[string]*dedicated // dedicated connections for blocking commands
	writeSet writeSet              // host pools written to since the last WAIT
	dirty    []*upConn             // upstream connections with requests queued by this reader
	keyIdx   []int                 // scratch for key indexes
	scratch  []byte                // scratch for rewritten commands

	// Event loop (loop.go); the reader's, like the fields above.
	onLoop      bool          // a loop's thread is the reader now
	back        chan loopExit // the loop gives the socket back
	deferred    []func()      // sends the loop left to the goroutine, in order
	loopServed  int           // commands dispatched on the loop since adoption
	loopWait    int           // commands to serve before offering the socket again
	loopBackoff int           // the last such wait
	loopFull    bool          // set by enqueue on a loop: the queue is full now
	flushRound  func()        // flushDirty, for Sock.AfterBatch
}

func newClient(p *Proxy, s *filters.Session, c filters.Conn) *client {
	cl := &client{
		p: p, s: s, conn: c, id: p.nextID.Add(1),
		max:    p.cfg.Settings.MaxPendingPerClient,
		wake:   make(chan struct{}, 1),
		out:    newBuffer(keepBatch),
		wdone:  make(chan struct{}),
		authed: p.cfg.DownstreamAuthPassword == "",
		orig:   c,
		back:   make(chan loopExit, 1),
	}
	cl.cond = sync.NewCond(&cl.mu)
	// What the overload manager's reset_high_memory_stream ranks
	// connections by: the reply bytes owed and the request bytes awaiting
	// replies (the read buffer, at most a streamed chunk, is left out: it
	// belongs to the reader goroutine).
	s.SetBufferedBytes(func() int64 { return max(cl.txHeld.Load(), 0) + max(cl.reqHeld.Load(), 0) })
	cl.rd = redis.NewReader(c, redis.Limits{})
	if tc, ok := c.(*net.TCPConn); ok {
		cl.raw, _ = tc.SyscallConn()
		if cl.raw != nil {
			cl.direct = true
			// An idle client holds no read buffer (issue 20: memory per
			// idle connection): the reader waits for bytes first.
			cl.rd.SetWaitReadable(waitReadable(cl.raw))
		}
	}
	return cl
}

// waitReadable returns a wait that parks in Go's netpoller until the socket
// has bytes (or EOF, an error, the read deadline), peeking one byte into a
// stack array so that nothing is consumed and no buffer is held.
func waitReadable(rc syscall.RawConn) func() error {
	return func() error {
		return rc.Read(func(fd uintptr) bool {
			var b [1]byte
			_, _, e := syscall.Syscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&b[0])), 1,
				syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
			return e != syscall.EAGAIN // anything else: the Read that follows reports it
		})
	}
}

// onDone is called after a slot of this client completed. If that made
// replies at the head of the queue ready and nobody is writing, it writes
// them in the calling goroutine without blocking; else the writer
// goroutine takes them.
func (c *client) onDone() {
	if !c.direct {
		c.notify()
		return
	}
	c.mu.Lock()
	if c.writing || c.broken || c.out.len() > 0 {
		c.mu.Unlock()
		c.notify()
		return
	}
	n := c.collect()
	if n == 0 {
		c.mu.Unlock() // the head is not ready: its completer writes
		return
	}
	c.writing = true
	c.mu.Unlock()
	c.p.stats.RqActive.Add(-int64(n))
	// The writer role makes c.out ours without the lock.
	w, err := c.tryWrite(c.out.bytes())
	c.txAdd(-int64(w))
	c.mu.Lock()
	c.writing = false
	c.wakeWaiters()
	if err == nil {
		c.out.consume(w) // the rest goes to the writer goroutine
	} else {
		c.out.reset()
	}
	more := c.out.len() > 0 || c.closing || c.headReady()
	c.mu.Unlock()
	if err != nil {
		c.fail(err)
		return
	}
	if more {
		c.notify()
	}
}

// collect pops the ready replies at the head of the queue into c.out and
// recycles their slots; c.mu is held and nobody holds the writer role.
func (c *client) collect() int {
	n := 0
	for {
		s := c.queue.peek()
		if s == nil || !s.done.Load() {
			break
		}
		c.queue.pop()
		c.out.add(s.reply.bytes())
		s.release()
		n++
	}
	if n > 0 {
		c.cond.Broadcast()
	}
	return n
}

// headReady reports whether the oldest pending reply is ready; c.mu is held.
func (c *client) headReady() bool {
	s := c.queue.peek()
	return s != nil && s.done.Load()
}

// tryWrite makes one non-blocking write attempt and returns how much of b
// the kernel took.
func (c *client) tryWrite(b []byte) (int, error) {
	if s := c.wsock; s != nil {
		return s.Write(b)
	}
	return tryRawWrite(c.raw, b)
}

// tryRawWrite makes one non-blocking write of b on a Go conn's socket and
// returns how much the kernel took (a full socket is 0, no error): the
// direct writes of replies to clients and of batches upstream.
func tryRawWrite(rc syscall.RawConn, b []byte) (int, error) {
	var n int
	var werr error
	err := rc.Write(func(fd uintptr) bool {
		n, werr = syscall.Write(int(fd), b)
		return true
	})
	n = max(n, 0)
	if err != nil {
		return n, err
	}
	if werr == syscall.EAGAIN || werr == syscall.EINTR {
		werr = nil
	}
	return n, werr
}

// notify wakes the writer, starting it the first time: a plain TCP client
// whose replies always go out by direct writes never needs one, and an idle
// connection then costs one goroutine, not two (issue 20: memory per idle
// connection). Called after a slot of this client completes, and at the end.
func (c *client) notify() {
	if !c.wstarted.Load() && c.wstarted.CompareAndSwap(false, true) {
		c.s.Go(func() {
			defer close(c.wdone)
			c.writeLoop()
		})
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// run serves the connection: it reads until the client is done, then has
// the writer (started on demand by notify) flush the replies still owed.
func (c *client) run() {
	c.rxUpdate()
	c.readLoop()
	c.flushUp()
	c.mu.Lock()
	c.closing = true
	c.mu.Unlock()
	c.notify() // starts the writer if none ran yet, to flush what is owed
	<-c.wdone
	if c.conn != c.orig { // a conn over the socket a loop gave back
		c.conn.Close()
	}
	for _, d := range c.pinned {
		d.close()
	}
	c.p.stats.RxBuffered.Add(-int64(c.rxHeld))
	if left := c.txHeld.Swap(-1 << 62); left > 0 {
		c.p.stats.TxBuffered.Add(-left)
	}
	if left := c.reqHeld.Swap(-1 << 62); left > 0 {
		c.p.stats.RxBuffered.Add(-left)
	}
}

// enqueue appends a new slot to the client's queue, waiting while the
// queue is full (backpressure: the reader stops reading). It returns nil if
// the writer has failed.
func (c *client) enqueue() *slot {
	c.mu.Lock()
	if c.full() && len(c.dirty) > 0 {
		c.mu.Unlock()
		c.flushUp() // the replies waited for must be asked for first
		c.mu.Lock()
	}
	for c.full() && !c.broken && !c.onLoop { // a loop checked before, and must not wait
		c.waiters++
		c.heldWait.Store(true)
		c.cond.Wait()
		c.waiters--
	}
	c.heldWait.Store(false)
	if c.broken {
		c.mu.Unlock()
		return nil
	}
	s := newSlot(c)
	c.queue.push(s)
	if c.onLoop {
		c.loopFull = c.full() // the loop gives the client back after this command
	}
	c.mu.Unlock()
	c.p.stats.RqActive.Inc()
	return s
}

// full reports whether the reader must wait before queueing another
// command: max_pending_per_client replies owed, or more bytes held for it
// (requests awaiting replies, replies not yet written) than the buffer
// limit; c.mu is held.
func (c *client) full() bool {
	return c.queue.len() >= c.max || max(c.txHeld.Load(), 0)+max(c.reqHeld.Load(), 0) > int64(c.p.limit)
}

// wakeWaiters wakes goroutines waiting for the writer role or for held
// bytes to drop; c.mu is held.
func (c *client) wakeWaiters() {
	if c.waiters > 0 {
		c.cond.Broadcast()
	}
}

// txAdd counts n reply bytes held for the client (negative: written),
// unless the client has ended.
func (c *client) txAdd(n int64) {
	for {
		v := c.txHeld.Load()
		if v < 0 {
			return
		}
		if c.txHeld.CompareAndSwap(v, v+n) {
			c.p.stats.TxBuffered.Add(n)
			return
		}
	}
}

// reqAdd counts n request bytes queued upstream (negative: answered),
// unless the client has ended, and wakes a reader waiting for them.
func (c *client) reqAdd(n int64) {
	for {
		v := c.reqHeld.Load()
		if v < 0 {
			return
		}
		if c.reqHeld.CompareAndSwap(v, v+n) {
			c.p.stats.RxBuffered.Add(n)
			break
		}
	}
	if n < 0 && c.heldWait.Load() {
		c.mu.Lock()
		c.cond.Broadcast()
		c.mu.Unlock()
	}
}

// rxUpdate reports the read buffer's size after it may have changed.
func (c *client) rxUpdate() { c.rxSet(c.rd.BufferSize()) }

// rxSet reports n bytes of read buffer held; reader only.
func (c *client) rxSet(n int) {
	if n != c.rxHeld {
		c.p.stats.RxBuffered.Add(int64(n - c.rxHeld))
		c.rxHeld = n
	}
}

// drain waits until every queued reply has been written.
func (c *client) drain() bool {
	c.flushUp()
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.queue.len() > 0 && !c.broken {
		c.cond.Wait()
	}
	return !c.broken
}

// reply queues a reply made by the proxy.
func (c *client) reply(b []byte) {
	if s := c.enqueue(); s != nil {
		s.completeLocal(b)
	}
}

// readLoop parses commands and dispatches them until EOF, an error, QUIT
// or a protocol error. A command larger than the buffer limit is streamed
// (large.go).
func (c *client) readLoop() {
	for {
		cmd, ok, err := c.rd.Next()
		if err == nil && !ok {
			if h, large := c.rd.Large(c.p.limit); large {
				c.arm()
				err = c.streamLarge(h)
				c.rxUpdate()
				if err == nil {
					continue
				}
			} else {
				c.flushUp()
				if c.canLoop() {
					if ex, ok, lerr := c.toLoop(); ok {
						if lerr != nil {
							return
						}
						c.runDeferred()
						if ex.has && !c.dispatch(ex.cmd) {
							return
						}
						if !ex.end {
							continue
						}
					}
				}
				err = c.fill()
				if err == nil {
					continue
				}
				if errors.Is(err, io.EOF) && c.rd.Buffered() == 0 {
					return
				}
			}
		}
		if err != nil {
			c.readFailed(err)
			return
		}
		c.seq++
		if len(cmd.Args) == 0 {
			continue
		}
		if c.loopWait > 0 {
			c.loopWait--
		}
		if !c.dispatch(cmd) {
			return
		}
	}
}

// writeLoop sends what direct writes left: ready replies whose completer
// found another write in progress, and the rest of a partial write. It
// blocks on a slow client, which stops the reader through the queue bound.
func (c *client) writeLoop() {
	for {
		c.mu.Lock()
		if c.writing {
			c.mu.Unlock() // a direct write is in progress; it wakes us after
			<-c.wake
			continue
		}
		n := c.collect()
		empty, closing := c.queue.len() == 0, c.closing
		out := c.out.bytes() // ours without the lock once writing is set
		if len(out) > 0 {
			c.writing = true
		}
		c.mu.Unlock()
		if n > 0 {
			c.p.stats.RqActive.Add(-int64(n))
		}
		if len(out) > 0 {
			w, err := c.writeOut(out, time.Time{})
			c.txAdd(-int64(w))
			c.mu.Lock()
			c.writing = false
			c.wakeWaiters()
			c.out.reset() // written whole, or the client failed
			c.mu.Unlock()
			if err != nil {
				c.fail(err)
				return
			}
			continue
		}
		if empty && closing {
			return
		}
		<-c.wake
	}
}

// fail stops the writer for good: the reader's waits end and the
// connection closes, which ends the reader.
func (c *client) fail(err error) {
	c.mu.Lock()
	c.broken = true
	left := c.queue.len()
	c.cond.Broadcast()
	c.mu.Unlock()
	c.p.stats.RqActive.Add(-int64(left))
	var ne net.Error
	if !errors.Is(err, net.ErrClosed) && !errors.As(err, &ne) {
		c.s.Log.Debug("redis_proxy: writing to client", "err", err)
	}
	c.closeDown()
}

// writeOut writes b whole to the client, blocking: on its Go conn, or on
// the loop's socket while a loop holds it. The writer role is held.
func (c *client) writeOut(b []byte, deadline time.Time) (int, error) {
	if s := c.wsock; s != nil {
		return s.WriteAll(b, deadline)
	}
	if !deadline.IsZero() {
		c.conn.SetWriteDeadline(deadline)
		defer c.conn.SetWriteDeadline(time.Time{})
	}
	return c.conn.Write(b)
}

// closeDown closes the client's connection from any goroutine, wherever
// its socket is: a loop then finds the end and gives the socket back, and
// a socket given back later is closed at once.
func (c *client) closeDown() {
	c.mu.Lock()
	c.aborted = true
	conn, s := c.conn, c.wsock
	c.mu.Unlock()
	conn.Close()
	if s != nil {
		s.Shutdown()
	}
}
