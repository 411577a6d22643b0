package redis

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"

	"github.com/sluice-proxy/sluice/codec/redis"
	"github.com/sluice-proxy/sluice/filters"
)

// client is one downstream connection: a reader goroutine (run) that parses
// and dispatches commands, and a writer goroutine that sends replies in
// order.
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
	closing bool // the reader is done: the writer exits once the queue is empty
	broken  bool // the writer failed: replies can no longer be delivered
	wake    chan struct{}

	authed    bool
	unpinning atomic.Bool           // the reader is closing its pub/sub connection
	tx        *txState              // non-nil between MULTI and EXEC/DISCARD
	pinned    map[string]*dedicated // dedicated connections for blocking commands
	dirty     []*upConn             // upstream connections with requests queued by this reader
	keyIdx    []int                 // scratch for key indexes
	scratch   []byte                // scratch for rewritten commands
}

func newClient(p *Proxy, s *filters.Session, c filters.Conn) *client {
	cl := &client{
		p: p, s: s, conn: c, id: p.nextID.Add(1),
		max:    p.cfg.Settings.MaxPendingPerClient,
		wake:   make(chan struct{}, 1),
		authed: p.cfg.DownstreamAuthPassword == "",
	}
	cl.cond = sync.NewCond(&cl.mu)
	cl.rd = redis.NewReader(c, redis.Limits{})
	return cl
}

// notify wakes the writer; called after a slot of this client completes.
func (c *client) notify() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// run serves the connection: it starts the writer, reads until the client
// is done, then waits for the writer to flush the replies still owed.
func (c *client) run() {
	wdone := make(chan struct{})
	go func() {
		defer close(wdone)
		c.writeLoop()
	}()
	c.readLoop()
	c.flushUp()
	c.mu.Lock()
	c.closing = true
	c.mu.Unlock()
	c.notify()
	<-wdone
	for _, d := range c.pinned {
		d.close()
	}
}

// enqueue appends a new slot to the client's queue, waiting while the
// queue is full (backpressure: the reader stops reading). It returns nil if
// the writer has failed.
func (c *client) enqueue() *slot {
	c.mu.Lock()
	if c.queue.len() >= c.max && len(c.dirty) > 0 {
		c.mu.Unlock()
		c.flushUp() // the replies waited for must be asked for first
		c.mu.Lock()
	}
	for c.queue.len() >= c.max && !c.broken {
		c.cond.Wait()
	}
	if c.broken {
		c.mu.Unlock()
		return nil
	}
	s := newSlot(c)
	c.queue.push(s)
	c.mu.Unlock()
	c.p.stats.RqActive.Inc()
	return s
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
// or a protocol error.
func (c *client) readLoop() {
	for {
		cmd, ok, err := c.rd.Next()
		if err == nil && !ok {
			c.flushUp()
			err = c.rd.Fill()
			if err == nil {
				continue
			}
			if errors.Is(err, io.EOF) && c.rd.Buffered() == 0 {
				return
			}
		}
		if err != nil {
			var pe *redis.ProtocolError
			if errors.As(err, &pe) {
				c.p.stats.CxProtocolError.Inc()
				c.reply(redis.AppendErr(nil, pe.Error()))
				c.s.Log.Info("redis_proxy: protocol error", "err", err)
			}
			return
		}
		if len(cmd.Args) == 0 {
			continue
		}
		if !c.dispatch(cmd) {
			return
		}
	}
}

// writeLoop sends ready replies in order, batching all of them into one
// write, and recycles their slots.
func (c *client) writeLoop() {
	var out []byte
	for {
		c.mu.Lock()
		n := 0
		for {
			s := c.queue.peek()
			if s == nil || !s.done.Load() {
				break
			}
			c.queue.pop()
			out = append(out, s.reply...)
			s.release()
			n++
		}
		empty, closing := c.queue.len() == 0, c.closing
		if n > 0 {
			c.cond.Broadcast()
		}
		c.mu.Unlock()
		if n > 0 {
			c.p.stats.RqActive.Add(-int64(n))
		}
		if len(out) > 0 {
			if _, err := c.conn.Write(out); err != nil {
				c.fail(err)
				return
			}
			out = out[:0]
			if cap(out) > 1<<20 {
				out = nil
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
	c.conn.Close()
}
