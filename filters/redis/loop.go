package redis

import (
	"errors"
	"net"
	"syscall"

	"github.com/sluice-proxy/sluice/codec/redis"
	"github.com/sluice-proxy/sluice/internal/guard"
	"github.com/sluice-proxy/sluice/proxy/ioloop"
)

// A plain TCP client spends its idle moments, and serves its ordinary
// commands, on one of the server's event loops (issue 20), as twemproxy
// serves every client: the loop reads each ready client once, parses and
// routes its commands onto the shared upstream connections, and once the
// round's ready clients are all read writes each upstream connection's
// batch once. A -P 1 request then costs no goroutine wake-up on its way
// up, where the reader goroutine cost two (the client's reader, then the
// upstream writer it woke); the reply still comes back through the
// upstream connection's reader, which writes it straight to the client.
//
// The loop's thread must never wait, so it serves only what cannot block:
// anything else (a command the pool must dial for, a full queue, MULTI, a
// blocking or subscribing command, QUIT, a large or a timed partial
// command, an error, the end of the stream) makes it give the socket back
// to the client's goroutine, parked meanwhile, which carries on with the
// reader exactly where the loop left it, and offers the socket to a loop
// again at its next idle moment. A client that keeps bouncing back waits
// longer before each new offer (loopBackoff), so MULTI-heavy clients stay
// on their goroutine.

// loopExit is what the loop hands the client's goroutine with the socket.
type loopExit struct {
	cmd    redis.Command // parsed, not yet dispatched (when has)
	has    bool
	err    error // the loop stopped (ErrClosed, a failure) or Ready panicked
	served int   // commands the loop dispatched
	// bounce: the client sent what only the goroutine serves (not a send
	// waiting for a dial, which is transient, nor the end of the stream).
	bounce bool
	// end: the read found the end of the stream or an error, which the
	// goroutine's own read reports.
	end bool
}

// Bounds of the goroutine's wait before offering the socket to a loop
// again, in commands served: a stay of fewer than loopMinStay commands on
// the loop doubles it.
const (
	loopMinStay    = 64
	loopMaxBackoff = 4096
)

// canLoop reports whether the client may go to a loop now: it is a plain
// TCP client of a server with loops, nothing is buffered or pending in its
// reader, it is in no transaction, and its back-off is spent.
func (c *client) canLoop() bool {
	if c.p.loops == nil || c.p.loops.Len() == 0 || !c.direct || c.tx != nil {
		return false
	}
	if c.rd.Buffered() > 0 || c.rd.InBody() || c.loopWait > 0 {
		return false
	}
	c.mu.Lock()
	full := c.full() // replies are owed up to the bound: wait on the goroutine
	c.mu.Unlock()
	if full {
		return false
	}
	_, ok := c.conn.(*net.TCPConn)
	return ok
}

// toLoop gives the socket to a loop and waits until the loop gives it back.
// ok=false: no loop took it (the caller reads on); err: the connection is
// over. A command the loop parsed but left to the goroutine is returned.
func (c *client) toLoop() (ex loopExit, ok bool, err error) {
	tc := c.conn.(*net.TCPConn)
	if c.flushRound == nil {
		c.flushRound = c.flushDirty // made once: a method value per read would allocate
	}
	c.rd.Idle()
	c.rxUpdate()
	c.takeWriter()
	c.onLoop = true // before the loop can call Ready
	s, aerr := c.p.loops.Adopt(tc, c)
	if aerr != nil {
		c.onLoop = false
		c.giveWriter()
		return loopExit{}, false, nil
	}
	c.mu.Lock()
	c.wsock = s
	aborted := c.aborted
	c.mu.Unlock()
	if aborted {
		s.Shutdown() // the loop finds the end and gives the socket back
	}
	c.giveWriter()

	ex = <-c.back
	c.takeWriter()
	nc, rerr := s.Release()
	c.mu.Lock()
	c.wsock = nil
	if rerr == nil {
		c.conn = nc
		c.raw, _ = nc.SyscallConn()
		if c.aborted {
			nc.Close()
		}
	}
	c.mu.Unlock()
	c.giveWriter()
	if rerr != nil {
		return ex, true, rerr
	}
	c.rd.SetSource(nc)
	if c.raw != nil {
		c.rd.SetWaitReadable(waitReadable(c.raw))
	}
	switch c.loopWait = 0; {
	case ex.served >= loopMinStay:
		c.loopBackoff = 0
	case ex.bounce:
		c.loopBackoff = min(max(2*c.loopBackoff, loopMinStay), loopMaxBackoff)
		c.loopWait = c.loopBackoff
	}
	var pe *guard.PanicError
	if errors.As(ex.err, &pe) {
		c.s.Contain(pe)
		nc.Close()
		return ex, true, ex.err
	}
	return ex, true, nil
}

// takeWriter waits for the writer role and takes it: whoever holds it
// writes to the client's socket, which is about to change hands.
func (c *client) takeWriter() {
	c.mu.Lock()
	for c.writing {
		c.waiters++
		c.cond.Wait()
		c.waiters--
	}
	c.writing = true
	c.mu.Unlock()
}

// giveWriter gives the role back and has ready replies written.
func (c *client) giveWriter() {
	c.mu.Lock()
	c.writing = false
	c.wakeWaiters()
	more := c.out.len() > 0 || c.headReady()
	c.mu.Unlock()
	if more {
		c.notify()
	}
}

// Ready serves the client on the loop's thread: one read, every complete
// command dispatched, the upstream batches left for the end of the round.
func (c *client) Ready(s *ioloop.Sock, buf []byte) {
	n, err := s.Read(buf)
	if err == syscall.EAGAIN {
		return
	}
	if err != nil || n == 0 {
		c.leaveLoop(s, loopExit{end: true}) // the goroutine reads the end or the error itself
		return
	}
	c.rd.Feed(buf[:n])
	timed := c.p.cfg.Settings.RequestTimeout.D() > 0
	for {
		cmd, ok, err := c.rd.Next()
		if err != nil {
			c.leaveLoop(s, loopExit{}) // sticky: the goroutine's Next reports it
			return
		}
		if !ok {
			if _, large := c.rd.Large(c.p.limit); large || (timed && c.rd.Buffered() > 0) {
				c.leaveLoop(s, loopExit{bounce: true})
				return
			}
			break
		}
		c.seq++
		if len(cmd.Args) == 0 {
			continue
		}
		if !c.loopable(cmd) {
			c.leaveLoop(s, loopExit{cmd: cmd, has: true, bounce: true})
			return
		}
		c.dispatch(cmd)
		c.loopServed++
		if len(c.deferred) > 0 || c.loopFull {
			// A send waits for a dial, or the queue is full: the
			// goroutine dials, or waits for room before reading on.
			c.loopFull = false
			c.leaveLoop(s, loopExit{})
			return
		}
	}
	c.rd.Idle()
	c.rxUpdate()
	if len(c.dirty) > 0 {
		s.AfterBatch(c.flushRound)
	}
}

// Stopped hands the socket back when the loop stops or Ready panicked.
func (c *client) Stopped(s *ioloop.Sock, err error) {
	c.onLoop = false
	c.back <- loopExit{err: err, served: c.loopServed}
}

// leaveLoop gives the socket back to the client's goroutine, with what the
// loop queued upstream sent on its way first.
func (c *client) leaveLoop(s *ioloop.Sock, ex loopExit) {
	s.Detach()
	c.flushUp()
	c.onLoop = false
	ex.served = c.loopServed
	c.loopServed = 0
	c.back <- ex
}

// loopable reports whether dispatching cmd on a loop cannot block: it is
// neither QUIT nor one of those served on dedicated connections or with
// waits. (A full queue is caught by enqueue, which never waits on a loop.)
func (c *client) loopable(cmd redis.Command) bool {
	if c.tx != nil {
		return false
	}
	ci := cmd.Info()
	if ci == nil {
		return true
	}
	switch ci.Name {
	case "QUIT", "MULTI", "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "WAIT":
		return false
	}
	return !ci.Flags.Has(redis.FlagBlocking)
}

// ready returns hp's connection for this client when a send can go out
// now; on a loop without a live connection (or behind a send already
// deferred) it returns nil, and the caller defers the send to the
// client's goroutine, which may dial (later keeps the order).
func (c *client) ready(hp *hostPool) bool {
	return !c.onLoop || (len(c.deferred) == 0 && hp.pool.Ready(c.id) != nil)
}

// later defers f, which may block, to the client's goroutine; f runs
// before anything else the goroutine does. raw bytes f sends must be its
// own copy.
func (c *client) later(f func()) { c.deferred = append(c.deferred, f) }

// runDeferred runs the sends a loop deferred, in order.
func (c *client) runDeferred() {
	for i, f := range c.deferred {
		c.deferred[i] = nil
		f()
	}
	c.deferred = c.deferred[:0]
}

// flushDirty writes the upstream batches this client queued in the
// round, on the loop's thread, without blocking.
func (c *client) flushDirty() {
	for i, uc := range c.dirty {
		uc.flushNow()
		c.dirty[i] = nil
	}
	c.dirty = c.dirty[:0]
}
