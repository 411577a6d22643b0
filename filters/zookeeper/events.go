package zookeeper

import (
	"strconv"
	"time"

	zk "github.com/sluice-proxy/sluice/codec/zookeeper"
	"github.com/sluice-proxy/sluice/filters"
)

// request counts one client frame, publishes its metadata, asks the gates
// and remembers it for its reply.
func (c *conn) request(r *zk.Request) error {
	st := c.f.stats
	if r.Op == zk.OpFourLetterWord {
		// An admin command: the server answers in plain text and closes;
		// nothing more is decoded either way.
		c.word.Store(true)
		st.FourLetterWords.Inc()
		c.meta.setRequest(r)
		return nil
	}
	st.RequestBytes.Add(uint64(r.Size))
	o := st.op(r.Op)
	switch {
	case r.Op == zk.OpConnect && r.ReadOnly:
		st.ConnectROnlyRq.Inc()
	case r.Op == zk.OpConnect:
		st.ConnectRq.Inc()
	case r.Op == zk.OpSetAuth:
		st.authRq(r.Scheme).Inc()
	case o != nil && o.rq != nil:
		o.rq.Inc()
	}
	if o != nil && o.rqBytes != nil {
		o.rqBytes.Add(uint64(r.Size))
	}
	c.meta.setRequest(r)
	deny := false
	if c.gated {
		v := c.check(r, requestMetadata(r))
		if v.Close {
			return errDenyClose
		}
		deny = v.Deny
		c.verdicts = append(c.verdicts, verdict{size: r.Size, xid: r.Xid, deny: deny})
	}
	now := time.Now()
	c.mu.Lock()
	if r.Op == zk.OpConnect {
		c.connectAt = now
	} else if len(c.pending)-c.head < maxPending {
		c.pending = append(c.pending, pend{xid: r.Xid, op: r.Op, start: now})
	}
	if deny {
		c.denied = append(c.denied, r.Xid)
	}
	c.mu.Unlock()
	return nil
}

// response counts one server frame and publishes its metadata.
func (c *conn) response(r *zk.Response) error {
	st := c.f.stats
	st.ResponseBytes.Add(uint64(r.Size))
	now := time.Now()
	switch {
	case r.Connect:
		c.mu.Lock()
		t := c.connectAt
		c.mu.Unlock()
		st.response(st.op(zk.OpConnect), r.Size, now.Sub(t))
		c.meta.setResponse(r, nil)
		// The session id goes to the access log once per connection: it
		// ties a reconnect's connections to one session.
		id := "0x" + strconv.FormatInt(r.SessionID, 16)
		c.s.UpdateAccess(func(a *filters.AccessRecord) {
			if a.Fields == nil {
				a.Fields = make(map[string]any)
			}
			a.Fields["zookeeper_session"] = id
		})
		return nil
	case r.Event:
		st.WatchEvent.Inc()
		c.meta.setResponse(r, nil)
		return nil
	}
	c.mu.Lock()
	p, ok := c.match(r.Xid)
	c.mu.Unlock()
	var o *opStats
	if ok {
		o = st.op(p.op)
		st.response(o, r.Size, now.Sub(p.start))
	} else {
		st.response(nil, r.Size, 0)
	}
	c.meta.setResponse(r, o)
	return nil
}

// match takes the request a reply answers out of the FIFO. Requests before
// it that got no reply (impossible from a real server) are dropped; a
// reply matching nothing leaves the FIFO alone. c.mu is held.
func (c *conn) match(xid int32) (pend, bool) {
	for i := c.head; i < len(c.pending); i++ {
		if c.pending[i].xid != xid {
			continue
		}
		p := c.pending[i]
		c.head = i + 1
		switch {
		case c.head == len(c.pending):
			c.pending, c.head = c.pending[:0], 0
		case c.head > 1024 && c.head > len(c.pending)/2:
			n := copy(c.pending, c.pending[c.head:])
			c.pending, c.head = c.pending[:n], 0
		}
		return p, true
	}
	return pend{}, false
}

// wasDenied reports (once) whether xid is a refused request's.
func (c *conn) wasDenied(xid int32) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, d := range c.denied {
		if d == xid {
			c.denied = append(c.denied[:i], c.denied[i+1:]...)
			return true
		}
	}
	return false
}
