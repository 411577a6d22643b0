package redis

import (
	"github.com/sluice-proxy/sluice/codec/redis"
)

// blocking runs a blocking command (BLPOP, BRPOP, BLMOVE, BZPOPMIN,
// XREAD BLOCK...) on a connection of this client's own, so that it blocks
// nobody else. The client's earlier replies are written first, and the
// client's next command is read only after the reply, as redis-server does
// for a blocked client.
func (c *client) blocking(cmd redis.Command, ci *redis.CommandInfo, keys []int) bool {
	t, ok := c.routeKeys(cmd.Args, keys, false)
	if !ok {
		return true
	}
	raw := c.wire(cmd, t.rt, keys)
	if !c.drain() {
		return false
	}
	d, err := c.dedicatedTo(t.hp)
	if err != nil {
		c.reply(replyUpstreamFailure)
		return true
	}
	if t.host != nil {
		t.host.BeginRequest()
	}
	r, err := d.roundTrip(raw)
	if err == nil && c.p.cfg.Settings.EnableRedirection && r[0] == '-' {
		r, err = c.followDedicated(t, raw, r)
	}
	if t.host != nil {
		t.host.EndRequest(err == nil)
	}
	if err != nil {
		c.dropDedicated(t.hp)
		c.reply(replyUpstreamFailure)
		return true
	}
	c.reply(r)
	return true
}

// followDedicated follows one MOVED or ASK for a blocking command.
func (c *client) followDedicated(t target, raw, r []byte) ([]byte, error) {
	rd, ok := redis.ParseRedirect(r)
	if !ok {
		return r, nil
	}
	hp := c.p.redirectPool(t, rd)
	if hp == nil {
		return r, nil
	}
	d, err := c.dedicatedTo(hp)
	if err != nil {
		return nil, err
	}
	if rd.Ask {
		if _, err := d.roundTrip(askingCmd); err != nil {
			return nil, err
		}
	}
	return d.roundTrip(raw)
}

var askingCmd = []byte("*1\r\n$6\r\nASKING\r\n")

// dedicatedTo returns this client's own connection to hp's address.
func (c *client) dedicatedTo(hp *hostPool) (*dedicated, error) {
	if d := c.pinned[hp.addr]; d != nil {
		return d, nil
	}
	nc, err := hp.open()
	if err != nil {
		return nil, err
	}
	if c.pinned == nil {
		c.pinned = map[string]*dedicated{}
	}
	d := &dedicated{nc: nc}
	c.pinned[hp.addr] = d
	return d, nil
}

func (c *client) dropDedicated(hp *hostPool) {
	if d := c.pinned[hp.addr]; d != nil {
		d.close()
		delete(c.pinned, hp.addr)
	}
}

// subscribe moves the client to a dedicated connection for pub/sub: the
// SUBSCRIBE family, PING and QUIT are forwarded; replies and messages flow
// back through the client's ordered queue. It returns when either side
// closes, and ends the connection.
func (c *client) subscribe(cmd redis.Command, ci *redis.CommandInfo) bool {
	var t target
	if ci.Name == "SSUBSCRIBE" {
		keys, _ := ci.AppendKeyIndexes(c.keyIdx[:0], cmd.Args)
		var ok bool
		if t, ok = c.routeKeys(cmd.Args, keys, false); !ok {
			return true
		}
	} else {
		if c.p.pubsub == nil {
			c.reply(replyNoUpstream)
			return true
		}
		t.rt = c.p.pubsub
		t.hp, t.host = c.p.pickAny(t.rt)
		if t.hp == nil {
			c.reply(replyNoUpstream)
			return true
		}
	}
	if !c.drain() {
		return false
	}
	nc, err := t.hp.open()
	if err != nil {
		c.reply(replyUpstreamFailure)
		return true
	}
	defer nc.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.pump(nc)
	}()
	if _, err := nc.Write(c.wire(cmd, nil, nil)); err != nil {
		<-done
		return false
	}
	for {
		cmd, ok, err := c.rd.Next()
		if err == nil && !ok {
			if err = c.rd.Fill(); err == nil {
				continue
			}
		}
		if err != nil || len(cmd.Args) == 0 {
			c.unpinning.Store(true)
			nc.Close()
			<-done
			return false
		}
		c.p.stats.RqTotal.Inc()
		ci := cmd.Info()
		if ci != nil && ci.Name == "QUIT" {
			c.reply(okReply)
			c.unpinning.Store(true)
			nc.Close()
			<-done
			return false
		}
		if ci == nil || (ci.Flags&redis.FlagPubSub == 0 && ci.Name != "PING") ||
			ci.Name == "PUBLISH" || ci.Name == "SPUBLISH" || ci.Name == "PUBSUB" {
			c.reply(redis.AppendError(nil, "ERR Can't execute '"+string(lower(cmd.Args[0]))+
				"': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT are allowed in this context"))
			continue
		}
		if _, err := nc.Write(c.wire(cmd, nil, nil)); err != nil {
			<-done
			return false
		}
	}
}

// pump moves replies and messages from a pub/sub connection to the client,
// one queued slot per message, until the upstream closes; then it closes
// the client so the reader stops too.
func (c *client) pump(nc interface{ Read([]byte) (int, error) }) {
	buf := make([]byte, 16<<10)
	var r, w, scanned int
	var sc redis.ReplyScanner
	for {
		for r+scanned < w {
			n, done, err := sc.Scan(buf[r+scanned : w])
			if err != nil {
				c.conn.Close()
				return
			}
			scanned += n
			if !done {
				break
			}
			c.reply(buf[r : r+scanned])
			r += scanned
			scanned = 0
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
		n, err := nc.Read(buf[w:])
		w += n
		if err != nil && n == 0 {
			if !c.unpinning.Load() {
				c.conn.Close()
			}
			return
		}
	}
}
