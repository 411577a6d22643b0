package redis

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sluice-proxy/sluice/cluster"
	"github.com/sluice-proxy/sluice/codec/redis"
	"github.com/sluice-proxy/sluice/internal/guard"
	"github.com/sluice-proxy/sluice/proxy/ioloop"
)

// Replies the proxy makes for upstream trouble, Envoy's texts.
var (
	replyNoUpstream      = []byte("-ERR no upstream host\r\n")
	replyUpstreamFailure = []byte("-ERR upstream failure\r\n")
)

// errConnDead is the error of a closed upstream connection.
var errConnDead = errors.New("redis: upstream connection closed")

// dialFailBackoff is how long a host whose connect failed fails requests at
// once instead of dialing again, so a pipeline to a dead host costs one
// connect attempt, not one per command.
const dialFailBackoff = 500 * time.Millisecond

// idleClose closes a multiplexed connection with nothing in flight for this
// long, so pools of retired configs and vanished nodes do not linger.
const idleClose = 2 * time.Minute

// hostPool is the shared set of multiplexed connections to one upstream
// address. Clients use slot clientID % MaxUpstreamConnectionsPerHost of
// the generic cluster.Pool, so one client's commands to a host stay on one
// connection, in order; what a connection does (batching, framing) is here.
type hostPool struct {
	addr    string
	host    *cluster.Host // nil for a redirect target not discovered yet
	dial    func(ctx context.Context) (net.Conn, error)
	auth    *Credentials
	proxy   *Proxy
	timeout time.Duration // connect and AUTH timeout
	limit   int           // the cluster's per_connection_buffer_limit_bytes
	// readonly sends READONLY after AUTH (Redis Cluster replicas).
	readonly bool

	pool *cluster.Pool[upConn, *upConn]
}

// init makes the pool's connection slots; call it once the fields are set.
func (hp *hostPool) init(n int) *hostPool {
	hp.pool = cluster.NewPool(n, dialFailBackoff, func() (*upConn, error) {
		nc, err := hp.open()
		if err != nil {
			return nil, err
		}
		return newUpConn(hp, nc), nil
	})
	return hp
}

// clusterNode reports a pool of a Redis Cluster node (a host of a
// redis_cluster cluster, or a redirect target not discovered yet).
func (hp *hostPool) clusterNode() bool {
	return hp.host == nil || hp.host.Cluster().Config().Type == "redis_cluster"
}

// get returns a live connection for client id, dialing if needed.
func (hp *hostPool) get(id uint64) (*upConn, error) {
	c, err := hp.pool.Get(id)
	if errors.Is(err, cluster.ErrRecentConnectFailure) {
		return nil, fmt.Errorf("redis: %s: %w", hp.addr, err)
	}
	return c, err
}

// closeAll closes the pool's connections.
func (hp *hostPool) closeAll() { hp.pool.CloseAll() }

var readonlyCmd = []byte("*1\r\n$8\r\nREADONLY\r\n")

// open dials the address and prepares the connection: AUTH, READONLY.
func (hp *hostPool) open() (net.Conn, error) {
	nc, err := hp.dial(context.Background())
	if err != nil {
		return nil, err
	}
	err = authenticate(nc, hp.auth, hp.timeout)
	if err == nil && hp.readonly {
		err = handshake(nc, readonlyCmd, hp.timeout)
	}
	if err != nil {
		nc.Close()
		return nil, err
	}
	return nc, nil
}

// upConn is one multiplexed upstream connection: requests from many clients
// are appended to wbuf in one critical section with their slots, so the
// FIFO order of slots is the order of the bytes on the wire; the writer
// sends everything queued in one write, the reader completes slots in order.
type upConn struct {
	pool *hostPool
	nc   net.Conn
	// raw is the plain TCP socket under nc (nil: TLS), which an event
	// loop writes without blocking (flushNow); direct says the batches
	// need not wait for max_buffer_size_before_flush.
	raw    syscall.RawConn
	direct bool

	mu      sync.Mutex
	wbuf    buffer // requests queued; a writer takes them out and others append meanwhile
	writing bool   // a goroutine is writing; others only append
	fifo    slotRing
	dead    bool
	// streaming is set while one client streams a large command through
	// the writer role (stream.go); writerFree wakes such a client waiting
	// for the role.
	streaming  bool
	streamWait int
	writerFree *sync.Cond

	touched []*client // clients with replies settled by this read; reader only

	// The reader's state, which the reader goroutine and, while an event
	// loop holds the socket, the loop's thread take turns on (loopup.go).
	rb      buffer
	scanned int // bytes of the first reply in rb already scanned
	sc      redis.ReplyScanner
	onLoop  bool
	back    chan upExit
	// sock is the socket while a loop holds it; c.mu guards its changes
	// and the writer role its use, as for nc's inner conn.
	sock *ioloop.Sock

	wake         chan struct{}
	closed       chan struct{}
	lastProgress atomic.Int64 // unix nanos of the last reply, or of a send to an idle conn
	deadFlag     atomic.Bool
}

func newUpConn(hp *hostPool, nc net.Conn) *upConn {
	c := &upConn{pool: hp, nc: nc, wbuf: newBuffer(keepBatch), wake: make(chan struct{}, 1), closed: make(chan struct{}),
		rb: newBuffer(keepRead), back: make(chan upExit, 1)}
	c.writerFree = sync.NewCond(&c.mu)
	if tc := plainTCP(nc); tc != nil && hp.proxy.cfg.Settings.MaxBufferSizeBeforeFlush == 0 {
		c.raw, _ = tc.SyscallConn()
		c.direct = c.raw != nil
	}
	c.lastProgress.Store(time.Now().UnixNano())
	// A panic in either loop fails this connection only (its requests get
	// the upstream-failure reply), as a read error would.
	failed := func(p *guard.PanicError) { c.fail(p) }
	g, what := hp.proxy.guard, "redis_proxy upstream connection"
	g.Go(what, failed, c.writeLoop, "addr", hp.addr)
	g.Go(what, failed, c.readLoop, "addr", hp.addr)
	return c
}

func (c *upConn) isDead() bool { return c.deadFlag.Load() }

// Dead reports a closed connection (cluster.PoolConn).
func (c *upConn) Dead() bool { return c.deadFlag.Load() }

// Close fails what is in flight and closes the connection (cluster.PoolConn).
func (c *upConn) Close() { c.fail(errIdle) }

// send queues raw with the slots that take its replies, one per command in
// raw, in order, and wakes the writer goroutine. It fails only on a dead
// connection; the caller then completes the slots itself.
func (c *upConn) send(raw []byte, slots ...*slot) error {
	if err := c.queue(raw, slots...); err != nil {
		return err
	}
	c.signal()
	return nil
}

// queue is send without waking the writer: client readers wake it once
// per read from the client, not once per command.
func (c *upConn) queue(raw []byte, slots ...*slot) error {
	c.mu.Lock()
	if c.dead {
		c.mu.Unlock()
		return errConnDead
	}
	if c.fifo.len() == 0 {
		c.lastProgress.Store(time.Now().UnixNano())
	}
	c.wbuf.add(raw)
	for _, s := range slots {
		if s.host != nil {
			s.host.BeginRequest()
		}
		c.fifo.push(s)
	}
	c.mu.Unlock()
	return nil
}

func (c *upConn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// flush writes what is queued, in the calling goroutine, unless another
// goroutine is writing (it will take these bytes too). After maxRounds
// writes it hands what remains to the writer goroutine.
func (c *upConn) flush(maxRounds int) {
	c.mu.Lock()
	if c.writing || c.wbuf.len() == 0 || c.dead {
		c.mu.Unlock()
		return
	}
	c.writing = true
	for round := 1; ; round++ {
		out := c.wbuf.take()
		c.mu.Unlock()
		_, err := c.writeOut(out, time.Time{})
		c.mu.Lock()
		c.wbuf.put(out)
		if err != nil {
			c.releaseWriter()
			c.mu.Unlock()
			c.fail(fmt.Errorf("redis: writing to %s: %w", c.pool.addr, err))
			return
		}
		if c.wbuf.len() == 0 || c.dead || c.streamWait > 0 {
			c.releaseWriter()
			c.mu.Unlock()
			return
		}
		if round >= maxRounds {
			c.releaseWriter()
			c.mu.Unlock()
			c.signal()
			return
		}
	}
}

// flushNow writes what is queued from an event loop's thread, which must
// not block: one non-blocking write; what the socket does not take goes on
// a goroutine that blocks for it. Without a plain socket (TLS) or with
// batches held for max_buffer_size_before_flush, the writer goroutine is
// woken instead.
func (c *upConn) flushNow() {
	if !c.direct {
		c.signal()
		return
	}
	c.mu.Lock()
	if c.writing || c.wbuf.len() == 0 || c.dead {
		c.mu.Unlock() // a writer takes these bytes with its own
		return
	}
	c.writing = true
	out := c.wbuf.take()
	c.mu.Unlock()
	var n int
	var err error
	if s := c.sock; s != nil { // the writer role makes sock ours to use
		n, err = s.Write(out)
	} else {
		n, err = tryRawWrite(c.raw, out)
	}
	if err == nil && n < len(out) {
		go c.finishWrite(out, n)
		return
	}
	c.afterWrite(out, err)
}

// finishWrite writes the rest of a batch a loop began, blocking, and hands
// on the writer role.
func (c *upConn) finishWrite(out []byte, from int) {
	_, err := c.writeOut(out[from:], time.Time{})
	c.afterWrite(out, err)
}

// afterWrite ends a write of a taken batch: the storage back, the writer
// role given up, and the writer goroutine woken for bytes queued meanwhile.
func (c *upConn) afterWrite(out []byte, err error) {
	c.mu.Lock()
	c.wbuf.put(out)
	c.releaseWriter()
	more := c.wbuf.len() > 0 && !c.dead
	c.mu.Unlock()
	if err != nil {
		c.fail(fmt.Errorf("redis: writing to %s: %w", c.pool.addr, err))
		return
	}
	if more {
		c.signal()
	}
}

// plainTCP returns the plain TCP conn under nc, or nil.
func plainTCP(nc net.Conn) *net.TCPConn {
	switch t := nc.(type) {
	case *net.TCPConn:
		return t
	case interface{ TCP() *net.TCPConn }:
		return t.TCP()
	}
	return nil
}

// releaseWriter gives up the writer role; c.mu is held.
func (c *upConn) releaseWriter() {
	c.writing = false
	if c.streamWait > 0 {
		c.writerFree.Broadcast()
	}
}

// fail closes the connection and fails every request in flight.
func (c *upConn) fail(err error) {
	c.mu.Lock()
	if c.dead {
		c.mu.Unlock()
		return
	}
	c.dead = true
	c.deadFlag.Store(true)
	pending := c.fifo.drain()
	c.wbuf = buffer{}
	c.writerFree.Broadcast()
	c.nc.Close() // under c.mu: a loop giving the socket back swaps nc's inner conn under it
	if c.sock != nil {
		c.sock.Shutdown() // the loop finds the end and gives the socket back
	}
	c.mu.Unlock()
	close(c.closed)
	for _, s := range pending {
		s.complete(replyUpstreamFailure, false)
	}
	if !errors.Is(err, errIdle) {
		c.pool.proxy.log.Debug("redis_proxy: upstream connection closed", "addr", c.pool.addr, "err", err)
	}
}

var (
	errIdle      = errors.New("redis: idle upstream connection closed")
	errOpTimeout = errors.New("redis: op_timeout")
)

// writeLoop sends queued requests, one write per batch, and enforces
// op_timeout and the idle close.
func (c *upConn) writeLoop() {
	p := c.pool.proxy
	opTimeout := p.cfg.Settings.OpTimeout.D()
	tick := time.NewTicker(max(opTimeout/4, time.Millisecond))
	defer tick.Stop()
	maxHold := p.cfg.Settings.MaxBufferSizeBeforeFlush
	holdFor := p.cfg.Settings.BufferFlushTimeout.D()
	for {
		select {
		case <-c.closed:
			return
		case <-tick.C:
			c.mu.Lock()
			n := c.fifo.len()
			if c.streaming { // request_timeout bounds a streamed command
				n = 0
				c.lastProgress.Store(time.Now().UnixNano())
			}
			c.mu.Unlock()
			idle := time.Since(time.Unix(0, c.lastProgress.Load()))
			switch {
			case n > 0 && idle > opTimeout:
				p.stats.UpstreamRqTimeout.Add(uint64(n))
				c.fail(errOpTimeout)
				return
			case n == 0 && idle > idleClose:
				c.fail(errIdle)
				return
			}
			continue
		case <-c.wake:
		}
		if maxHold > 0 {
			c.hold(maxHold, holdFor)
		} else {
			c.gather()
		}
		c.flush(1 << 30)
	}
}

// gather lets the goroutines that are ready to run (client readers woken
// by the same network poll) queue their requests before the write, so that
// one write carries them all, as one round of an event loop would. It costs
// nothing measurable when nothing else is runnable.
func (c *upConn) gather() {
	prev := -1
	for i := 0; i < 4; i++ {
		c.mu.Lock()
		n := c.wbuf.len()
		c.mu.Unlock()
		if n == prev {
			return
		}
		prev = n
		runtime.Gosched()
	}
}

// hold waits until max bytes are queued or d passes (Envoy's
// max_buffer_size_before_flush and buffer_flush_timeout).
func (c *upConn) hold(max int, d time.Duration) {
	deadline := time.Now().Add(d)
	for {
		c.mu.Lock()
		n := c.wbuf.len()
		c.mu.Unlock()
		left := time.Until(deadline)
		if n >= max || left <= 0 {
			return
		}
		t := time.NewTimer(left)
		select {
		case <-c.wake:
			t.Stop()
		case <-t.C:
			return
		case <-c.closed:
			t.Stop()
			return
		}
	}
}

// readLoop frames replies and completes slots in FIFO order, copying each
// reply once, into its slot.
func (c *upConn) readLoop() {
	for {
		if err := c.scanReplies(); err != nil {
			c.tellClients()
			c.fail(fmt.Errorf("redis: reply from %s: %w", c.pool.addr, err))
			return
		}
		c.tellClients()
		if c.rb.len() == 0 && c.canLoop() {
			adopted, alive := c.toLoop()
			if !alive {
				return
			}
			if adopted {
				continue
			}
		}
		n, err := c.rb.readFrom(c.nc, c.pool.limit)
		if err == errFull {
			// One reply fills the buffer limit: pass it on as it comes.
			if err := c.streamReply(&c.sc, &c.rb, c.scanned); err != nil {
				c.tellClients()
				c.fail(err)
				return
			}
			c.scanned = 0
			continue
		}
		if err != nil && n == 0 {
			c.fail(fmt.Errorf("redis: reading from %s: %w", c.pool.addr, err))
			return
		}
	}
}

// scanReplies frames the complete replies in rb and hands them to their
// slots; the error is a malformed reply.
func (c *upConn) scanReplies() error {
	for c.scanned < c.rb.len() {
		n, done, err := c.sc.Scan(c.rb.bytes()[c.scanned:])
		if err != nil {
			return err
		}
		c.scanned += n
		if !done {
			return nil
		}
		c.lastProgress.Store(time.Now().UnixNano())
		c.deliver(c.rb.bytes()[:c.scanned])
		c.rb.consume(c.scanned)
		c.scanned = 0
	}
	return nil
}

// deliver hands one reply to the oldest slot in flight.
func (c *upConn) deliver(reply []byte) {
	c.mu.Lock()
	s := c.fifo.pop()
	c.mu.Unlock()
	if s == nil {
		c.fail(fmt.Errorf("redis: unsolicited reply from %s", c.pool.addr))
		return
	}
	if s.raw.len() > 0 && len(reply) > 0 && reply[0] == '-' {
		if rd, ok := redis.ParseRedirect(reply); ok && c.pool.proxy.redirect(s, c.pool, rd) {
			return
		}
	}
	if cl := s.settle(reply, true); cl != nil {
		if n := len(c.touched); n == 0 || c.touched[n-1] != cl {
			c.touched = append(c.touched, cl)
		}
	}
}

// tellClients lets every client with replies from the last read send them,
// one write per client (Go's answer to an event loop's write batching).
func (c *upConn) tellClients() {
	for i, cl := range c.touched {
		cl.onDone()
		c.touched[i] = nil
	}
	c.touched = c.touched[:0]
}

// slotRing is a FIFO of slots; not safe for concurrent use.
type slotRing struct {
	buf        []*slot
	head, size int
}

func (q *slotRing) len() int { return q.size }

func (q *slotRing) push(s *slot) {
	if q.size == len(q.buf) {
		nb := make([]*slot, max(16, 2*len(q.buf)))
		for i := 0; i < q.size; i++ {
			nb[i] = q.buf[(q.head+i)%len(q.buf)]
		}
		q.buf, q.head = nb, 0
	}
	q.buf[(q.head+q.size)%len(q.buf)] = s
	q.size++
}

func (q *slotRing) peek() *slot {
	if q.size == 0 {
		return nil
	}
	return q.buf[q.head]
}

func (q *slotRing) pop() *slot {
	if q.size == 0 {
		return nil
	}
	s := q.buf[q.head]
	q.buf[q.head] = nil
	q.head = (q.head + 1) % len(q.buf)
	q.size--
	return s
}

func (q *slotRing) drain() []*slot {
	out := make([]*slot, 0, q.size)
	for q.size > 0 {
		out = append(out, q.pop())
	}
	return out
}
