package redis

import (
	"bytes"
	"net"
	"sync/atomic"
	"time"

	"github.com/sluice-proxy/sluice/codec/redis"
)

// barrierArg is the argument of the PING the proxy sends to learn whether a
// pub/sub connection is still in subscribed mode. In that mode redis-server
// answers [pong, arg]; in normal mode (the subscription count reached 0) it
// answers the bulk arg. Replies are in order, so the answer also says that
// every reply before it has reached the client's queue.
const barrierArg = "__sluice:barrier"

var (
	barrierCmd        = redis.AppendCommandString(nil, "PING", barrierArg)
	barrierSubscribed = redis.AppendBulkString(redis.AppendBulkString(redis.AppendArrayHeader(nil, 2), "pong"), barrierArg)
	barrierNormal     = redis.AppendBulkString(nil, barrierArg)
	resetReply        = []byte("+RESET\r\n")
)

// subSession is a client in pub/sub mode: its dedicated upstream
// connection and the pump goroutine that moves replies and messages from it
// to the client's ordered queue.
type subSession struct {
	c       *client
	nc      net.Conn
	done    chan struct{} // closed when the pump returns
	leaving atomic.Bool   // the reader closes nc: the pump must not end the client
	barrier atomic.Bool   // a barrier PING is in flight
	verdict chan bool     // the pump's answer to a barrier: true means normal mode
}

// subscribe moves the client to a dedicated connection for pub/sub: the
// SUBSCRIBE family and PING are forwarded; replies and messages flow back
// through the client's ordered queue. A command of another kind is held
// while a barrier PING asks the upstream whether the subscription count
// has reached 0: if so, the dedicated connection is closed and the command
// runs on the normal path (as redis-server returns to normal mode), else
// it gets redis-server's RESP2 error. RESET leaves pub/sub mode at once;
// QUIT ends the connection.
func (c *client) subscribe(cmd redis.Command, ci *redis.CommandInfo) bool {
	t, ok := c.subTarget(cmd, ci)
	if !ok {
		return true
	}
	if !c.drain() {
		return false
	}
	nc, err := t.hp.open()
	if err != nil {
		c.reply(replyUpstreamFailure)
		return true
	}
	s := &subSession{c: c, nc: nc, done: make(chan struct{}), verdict: make(chan bool, 1)}
	c.s.Go(func() {
		defer close(s.done)
		s.pump()
	})
	if _, err := nc.Write(c.wire(cmd, nil, nil)); err != nil {
		s.leave()
		return false
	}
	for {
		cmd, ok, err := c.rd.Next()
		if err == nil && !ok {
			if _, large := c.rd.Large(c.p.limit); large {
				s.leave()
				c.refuseLarge("", "subscribed")
				return false
			}
			if err = c.fill(); err == nil {
				continue
			}
		}
		if err != nil {
			c.timedOut(err)
		}
		c.seq++
		if err != nil || len(cmd.Args) == 0 {
			s.leave()
			return false
		}
		ci := cmd.Info()
		switch {
		case ci != nil && ci.Name == "QUIT":
			c.p.stats.RqTotal.Inc()
			s.normalMode() // the replies owed go first
			s.leave()
			c.reply(okReply)
			return false
		case ci != nil && ci.Name == "RESET":
			// Closing the connection drops every subscription upstream.
			c.p.stats.RqTotal.Inc()
			s.normalMode()
			s.leave()
			c.reply(resetReply)
			return true
		case subModeAllowed(ci):
			c.p.stats.RqTotal.Inc()
			if _, err := nc.Write(c.wire(cmd, nil, nil)); err != nil {
				s.leave()
				return false
			}
			continue
		}
		normal, alive := s.normalMode()
		if !alive {
			s.leave()
			return false
		}
		if normal {
			s.leave()
			return c.dispatch(cmd) // never a SUBSCRIBE: no deeper recursion
		}
		c.p.stats.RqTotal.Inc()
		c.reply(redis.AppendError(nil, "ERR Can't execute '"+string(lower(cmd.Args[0]))+
			"': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"))
	}
}

// subTarget picks the host of a SUBSCRIBE-family command: the channel's
// shard for SSUBSCRIBE, the pub/sub route's first host otherwise. ok is
// false after a reply was queued.
func (c *client) subTarget(cmd redis.Command, ci *redis.CommandInfo) (t target, ok bool) {
	if ci.Name == "SSUBSCRIBE" {
		keys, _ := ci.AppendKeyIndexes(c.keyIdx[:0], cmd.Args)
		return c.routeKeys(cmd.Args, keys, false)
	}
	if c.p.pubsub == nil {
		c.reply(replyNoUpstream)
		return t, false
	}
	t.rt = c.p.pubsub
	t.hp, t.host = c.p.pickAny(t.rt)
	if t.hp == nil {
		c.reply(replyNoUpstream)
		return t, false
	}
	return t, true
}

// subModeAllowed reports whether a command is forwarded in subscribed mode.
func subModeAllowed(ci *redis.CommandInfo) bool {
	if ci == nil {
		return false
	}
	switch ci.Name {
	case "PING", "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE":
		return true
	}
	return false
}

// normalMode sends a barrier PING and waits for the pump's verdict. alive
// is false when the pub/sub connection ended first or op_timeout passed.
func (s *subSession) normalMode() (normal, alive bool) {
	s.barrier.Store(true)
	if _, err := s.nc.Write(barrierCmd); err != nil {
		return false, false
	}
	// A server that never answers the barrier the way redis-server does
	// fails like any request without a reply: after op_timeout.
	t := time.NewTimer(s.c.p.cfg.Settings.OpTimeout.D())
	defer t.Stop()
	select {
	case v := <-s.verdict:
		return v, true
	case <-s.done:
		// The pump returns right after a normal-mode verdict: both cases
		// may be ready, and select picks either.
		select {
		case v := <-s.verdict:
			return v, true
		default:
		}
	case <-t.C:
		s.c.p.stats.UpstreamRqTimeout.Inc()
	}
	return false, false
}

// leave closes the pub/sub connection and waits for the pump, so that no
// message reaches the client's queue after this returns.
func (s *subSession) leave() {
	s.leaving.Store(true)
	s.nc.Close()
	<-s.done
}

// pump moves replies and messages from the pub/sub connection to the
// client, one queued slot per reply, until the upstream closes (then it
// closes the client, so the reader stops too) or a barrier finds the
// connection in normal mode (then nothing more can arrive: the reader sent
// nothing after the barrier).
func (s *subSession) pump() {
	c := s.c
	buf := make([]byte, 16<<10)
	var r, w, scanned int
	var sc redis.ReplyScanner
	for {
		for r+scanned < w {
			n, done, err := sc.Scan(buf[r+scanned : w])
			if err != nil {
				c.closeDown()
				return
			}
			scanned += n
			if !done {
				break
			}
			rep := buf[r : r+scanned]
			r += scanned
			scanned = 0
			if s.barrier.Load() {
				switch {
				case bytes.Equal(rep, barrierNormal):
					s.verdict <- true
					return
				case bytes.Equal(rep, barrierSubscribed):
					s.barrier.Store(false)
					s.verdict <- false
					continue
				}
			}
			c.reply(rep)
		}
		if r == w {
			r, w = 0, 0
		} else if w == len(buf) {
			if r > 0 {
				w = copy(buf, buf[r:w])
				r = 0
			} else {
				nb := make([]byte, 2*len(buf))
				copy(nb, buf[:w])
				buf = nb
			}
		}
		n, err := s.nc.Read(buf[w:])
		w += n
		if err != nil && n == 0 {
			if !s.leaving.Load() {
				c.closeDown()
			}
			return
		}
	}
}
