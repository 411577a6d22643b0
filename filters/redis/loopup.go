package redis

import (
	"errors"
	"net"
	"syscall"
	"time"

	"github.com/sluice-proxy/sluice/internal/guard"
	"github.com/sluice-proxy/sluice/proxy/ioloop"
)

// An upstream connection's replies are read on an event loop too (issue
// 20), so that a request served by loops never waits for a goroutine: the
// loop that read a client's command wrote it upstream at the end of its
// round, and the loop that reads the reply writes it to the client at once
// (one non-blocking write per client per read). Without it the reply waited
// for the upstream reader goroutine, whose wake-up needs a free P: with
// GOMAXPROCS as small as the loops' count (--concurrency 1), the P stayed
// with the loop's thread in epoll_wait until sysmon took it back, and -P 1
// fell to 0.65x twemproxy.
//
// As for clients, the loop does only what cannot block: a reply larger than
// the buffer limit (streamed, streamreply.go), a malformed reply, the end
// of the stream and an error give the socket back to the reader goroutine,
// parked meanwhile, which carries on from the same reader state. Redirects
// (MOVED, ASK) may dial, so connections of a proxy with
// enable_redirection stay on their goroutine.

// upExit is what the loop hands the reader goroutine with the socket.
type upExit struct{ err error }

// canLoop reports whether the reader may give the socket to a loop: a
// plain TCP connection of a proxy with loops and without redirection.
func (c *upConn) canLoop() bool {
	p := c.pool.proxy
	return c.direct && p.loops != nil && p.loops.Len() > 0 && !p.cfg.Settings.EnableRedirection && !c.isDead()
}

// toLoop gives the socket to a loop and waits until the loop gives it
// back. adopted=false: no loop took it (the reader reads on); alive=false:
// the connection is over (the reader returns).
func (c *upConn) toLoop() (adopted, alive bool) {
	tc := plainTCP(c.nc)
	if tc == nil {
		return false, true
	}
	c.takeWriter()
	c.onLoop = true // before the loop can call Ready
	s, err := c.pool.proxy.loops.Adopt(tc, c)
	if err != nil {
		c.onLoop = false
		c.giveWriter()
		return false, true
	}
	c.mu.Lock()
	c.sock = s
	if c.dead {
		s.Shutdown()
	}
	c.mu.Unlock()
	c.giveWriter()

	ex := <-c.back
	c.takeWriter()
	nc, rerr := s.Release()
	c.mu.Lock()
	c.sock = nil
	if rerr == nil {
		c.setInner(nc)
		if c.dead {
			nc.Close()
		}
	}
	c.mu.Unlock()
	c.giveWriter()
	var pe *guard.PanicError
	switch {
	case errors.As(ex.err, &pe):
		c.tellClients()
		c.fail(pe)
		return true, false
	case rerr != nil:
		c.fail(rerr)
		return true, false
	}
	return true, true
}

// setInner puts nc, a conn over the socket a loop gave back, under the
// upstream conn (the cluster's wrapper keeps its accounting); c.mu is held.
func (c *upConn) setInner(nc *net.TCPConn) {
	if u, ok := c.nc.(interface{ SetInner(net.Conn) }); ok {
		u.SetInner(nc)
	} else {
		c.nc = nc
	}
	c.raw, _ = nc.SyscallConn()
}

// takeWriter waits for the writer role and takes it.
func (c *upConn) takeWriter() {
	c.mu.Lock()
	for c.writing {
		c.streamWait++
		c.writerFree.Wait()
		c.streamWait--
	}
	c.writing = true
	c.mu.Unlock()
}

// giveWriter gives the role back; the writer goroutine sends what was
// queued meanwhile.
func (c *upConn) giveWriter() {
	c.mu.Lock()
	c.releaseWriter()
	more := c.wbuf.len() > 0
	c.mu.Unlock()
	if more {
		c.signal()
	}
}

// writeOut writes b whole upstream, blocking: on nc, or on the loop's
// socket while a loop holds it. The writer role is held.
func (c *upConn) writeOut(b []byte, deadline time.Time) (int, error) {
	if s := c.sock; s != nil {
		return s.WriteAll(b, deadline)
	}
	if !deadline.IsZero() {
		c.nc.SetWriteDeadline(deadline)
		defer c.nc.SetWriteDeadline(time.Time{})
	}
	return c.nc.Write(b)
}

// sockReader reads a loop's socket without blocking.
type sockReader struct{ s *ioloop.Sock }

func (r sockReader) Read(p []byte) (int, error) { return r.s.Read(p) }

// Ready reads the replies on the loop's thread and writes them to their
// clients.
func (c *upConn) Ready(s *ioloop.Sock, _ []byte) {
	n, err := c.rb.readFrom(sockReader{s}, c.pool.limit)
	switch {
	case err == syscall.EAGAIN:
		return
	case err != nil || n == 0: // errFull, the end, an error
		c.leaveLoop(s) // the goroutine streams the reply, or reads the end or the error itself
		return
	}
	if err := c.scanReplies(); err != nil {
		c.tellClients()
		c.leaveLoop(s) // the goroutine's scan meets the same error
		return
	}
	c.tellClients()
}

// Stopped hands the socket back when the loop stops or Ready panicked.
func (c *upConn) Stopped(s *ioloop.Sock, err error) {
	c.onLoop = false
	c.back <- upExit{err: err}
}

func (c *upConn) leaveLoop(s *ioloop.Sock) {
	s.Detach()
	c.onLoop = false
	c.back <- upExit{}
}
