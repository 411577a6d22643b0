package redis

import (
	"fmt"
	"time"
)

// beginStream makes the calling client the connection's writer for one
// streamed command (large.go): it waits for a write in progress to end,
// queues s for the command's reply, and writes everything queued before it
// and then head. Until endStream, other clients' commands only queue. It
// returns errConnDead, with s not queued, for a closed connection; any
// other error closed the connection after s was queued (s failed with it).
func (c *upConn) beginStream(s *slot, head []byte) error {
	c.mu.Lock()
	for c.writing && !c.dead {
		c.streamWait++
		c.writerFree.Wait()
		c.streamWait--
	}
	if c.dead {
		c.mu.Unlock()
		return errConnDead
	}
	c.writing, c.streaming = true, true
	if s.host != nil {
		s.host.BeginRequest()
	}
	c.fifo.push(s)
	c.wbuf.add(head)
	out := c.wbuf.take()
	c.mu.Unlock()
	err := c.streamWrite(out)
	c.mu.Lock()
	c.wbuf.put(out)
	c.mu.Unlock()
	return err
}

// streamWrite writes part of a streamed command, within op_timeout; a
// failure closes the connection (the command's slot fails with it).
func (c *upConn) streamWrite(b []byte) error {
	_, err := c.writeOut(b, time.Now().Add(c.pool.proxy.cfg.Settings.OpTimeout.D()))
	if err != nil {
		c.endStream()
		err = fmt.Errorf("redis: writing to %s: %w", c.pool.addr, err)
		c.fail(err)
		return err
	}
	return nil
}

// endStream gives the writer role back; the writer goroutine sends what
// other clients queued meanwhile.
func (c *upConn) endStream() {
	c.mu.Lock()
	if !c.streaming {
		c.mu.Unlock()
		return
	}
	c.streaming = false
	c.releaseWriter()
	c.mu.Unlock()
	c.lastProgress.Store(time.Now().UnixNano())
	c.signal()
}
