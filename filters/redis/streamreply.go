package redis

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/sluice-proxy/sluice/codec/redis"
)

// Replies larger than the buffer limit (the upstream cluster's
// per_connection_buffer_limit_bytes) are not held: the connection's reader
// waits until the reply's slot is the oldest one owed to its client,
// takes the client's writer role, and writes the reply to the client
// chunk by chunk as it arrives. On a shared connection the replies behind
// it (other clients') wait meanwhile: that is the cost of multiplexing one
// connection. Both waits are bounded by op_timeout: a client that does not
// become writable, or does not read a chunk, within op_timeout is closed
// and the rest of its reply is read and dropped, so the shared connection
// moves on.

// errClientGone is the end of a streamed reply whose client was closed.
var errClientGone = errors.New("redis: client closed while a reply was streamed to it")

// ownHead waits until s is the oldest reply owed to the client and nobody
// writes to the client, then makes the caller its writer; it writes first
// what an earlier partial write left over. It fails (and closes the client)
// when that takes longer than wait.
func (c *client) ownHead(s *slot, wait time.Duration) bool {
	expired := false
	t := time.AfterFunc(wait, func() {
		c.mu.Lock()
		expired = true
		c.cond.Broadcast()
		c.mu.Unlock()
	})
	defer t.Stop()
	c.mu.Lock()
	for !c.broken && !expired && (c.writing || c.queue.peek() != s) {
		if !c.writing && c.headReady() {
			c.notify() // ready replies before s: the writer takes them
		}
		c.waiters++
		c.cond.Wait()
		c.waiters--
	}
	if c.broken || expired {
		broken := c.broken
		c.mu.Unlock()
		if !broken {
			c.fail(fmt.Errorf("redis: a large reply waited more than op_timeout (%s) for the client's writer", wait))
		}
		return false
	}
	c.writing = true
	c.mu.Unlock()
	if pend := c.out.bytes(); len(pend) > 0 { // ours: we hold the writer role
		err := c.streamOut(pend, wait, true)
		c.mu.Lock()
		c.out.reset()
		c.mu.Unlock()
		_ = err // a failed client is closed; the stream's writes are skipped
	}
	return true
}

// streamOut writes part of a streamed reply to the client, within wait;
// on failure the client is closed. counted bytes were in txHeld.
func (c *client) streamOut(b []byte, wait time.Duration, counted bool) error {
	if c.isBroken() {
		return errClientGone
	}
	n, err := c.writeOut(b, time.Now().Add(wait))
	if counted {
		c.txAdd(-int64(n))
	}
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			c.s.Log.Info("redis_proxy: client did not read a streamed reply within op_timeout, closing",
				"op_timeout", wait.String())
		}
		c.fail(err)
		return errClientGone
	}
	return nil
}

func (c *client) isBroken() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.broken
}

// releaseHead ends a streamed reply: s leaves the queue and the writer
// role is given back.
func (c *client) releaseHead(s *slot) {
	c.mu.Lock()
	if c.queue.peek() == s {
		c.queue.pop()
		if !c.broken {
			c.p.stats.RqActive.Dec()
		}
	}
	c.writing = false
	c.cond.Broadcast()
	more := c.out.len() > 0 || c.closing || c.headReady()
	c.mu.Unlock()
	s.release()
	if more {
		c.notify()
	}
}

// headWriter streams one reply to the client that owns its slot.
type headWriter struct {
	c     *client
	s     *slot
	wait  time.Duration
	first byte
	state headState
}

type headState uint8

const (
	hwIdle     headState = iota // nothing written yet
	hwOwner                     // the client's writer role is ours
	hwFailed                    // it was ours, and the client failed
	hwNoAccess                  // the client was closed before it was ours
)

// write passes b on, taking the client's writer role at the first call.
func (h *headWriter) write(b []byte) {
	if len(b) == 0 {
		return
	}
	if h.state == hwIdle {
		h.first = b[0]
		if !h.c.ownHead(h.s, h.wait) {
			h.state = hwNoAccess
			return
		}
		h.state = hwOwner
	}
	if h.state == hwOwner && h.c.streamOut(b, h.wait, false) != nil {
		h.state = hwFailed
	}
}

// end settles the slot after the reply's last byte (ok) or a failure.
func (h *headWriter) end(ok bool) {
	h.s.finishStreamed(h.first, ok)
	switch h.state {
	case hwOwner, hwFailed:
		if !ok && h.state == hwOwner {
			h.c.fail(errors.New("redis: upstream failed while a reply was streamed"))
		}
		h.c.releaseHead(h.s)
	default:
		// The client is closed with s still queued: let its writer pop it.
		h.s.reply.reset()
		h.s.done.Store(true)
		h.c.notify()
	}
}

// finishStreamed records a streamed reply's request stats; first is the
// reply's type byte.
func (s *slot) finishStreamed(first byte, upstreamOK bool) {
	s.answered()
	if s.host != nil {
		s.host.EndRequest(upstreamOK)
	}
	if s.ucs != nil {
		s.ucs.finish(s.ustart, first == '-' || first == '!' || !upstreamOK)
	}
	if s.cs != nil {
		s.cs.Latency.Record(float64(time.Since(s.start).Microseconds()) / 1000)
		if first == '-' || first == '!' || !upstreamOK {
			s.cs.Error.Inc()
		} else {
			s.cs.Success.Inc()
		}
	}
}

// streamReply passes on a reply that outgrew the connection's buffer
// limit: rb holds its start, of which scanned bytes are scanned by sc. On
// return rb holds the bytes read after the reply, for the caller to frame.
func (c *upConn) streamReply(sc *redis.ReplyScanner, rb *buffer, scanned int) error {
	c.mu.Lock()
	s := c.fifo.pop()
	c.mu.Unlock()
	if s == nil {
		return fmt.Errorf("redis: unsolicited reply from %s", c.pool.addr)
	}
	p := c.pool.proxy
	c.tellClients() // replies before s may be the ones its client waits for
	var h *headWriter
	switch {
	case s.parent != nil:
		// A fragment is merged with its siblings: it would have to be held.
		p.stats.RqTooLarge.Inc()
		p.log.Info("redis_proxy: a split command's reply part exceeds the cluster's per_connection_buffer_limit_bytes",
			"addr", c.pool.addr, "limit", c.pool.limit)
		s.complete(redis.AppendErr(nil, "reply exceeds per_connection_buffer_limit_bytes ("+itoa(c.pool.limit)+")"), true)
	case s.owner == nil: // mirrored: nobody reads it
		s.finishStreamed(rb.bytes()[0], true)
		s.release()
	default:
		c.lastProgress.Store(time.Now().UnixNano())
		h = &headWriter{c: s.owner, s: s, wait: p.cfg.Settings.OpTimeout.D()}
	}
	end := func(ok bool) {
		if h != nil {
			h.end(ok)
		}
	}
	for {
		if h != nil {
			h.write(rb.bytes()[:scanned])
		}
		rb.consume(scanned)
		n, err := rb.readFrom(c.nc, c.pool.limit)
		if n > 0 {
			c.lastProgress.Store(time.Now().UnixNano())
		}
		if err != nil && n == 0 {
			end(false)
			return fmt.Errorf("redis: reading from %s: %w", c.pool.addr, err)
		}
		m, done, serr := sc.Scan(rb.bytes())
		if serr != nil {
			end(false)
			return fmt.Errorf("redis: reply from %s: %w", c.pool.addr, serr)
		}
		scanned = m
		if done {
			if h != nil {
				h.write(rb.bytes()[:scanned])
			}
			rb.consume(scanned)
			end(true)
			return nil
		}
	}
}
