package mysql

import (
	"time"

	codec "github.com/sluice-proxy/sluice/codec/mysql"
)

// Slow clients: a client that drips its HandshakeResponse, or a command, a
// byte at a time holds a connection to sluice and one to the server for as
// long as it likes. Two timers bound that, on either I/O path (the codec
// is fed by Read or by an event loop's callbacks; Session.Abort ends the
// connection on both):
//
//   - handshake: from Observe until the server's OK (or ERR) to the login;
//   - request: from the first byte of a client packet after login until its
//     last; armed only while a packet is partial, so a whole command in one
//     read costs no timer operation.
//
// Timer callbacks check a generation under conn.mu: a callback already
// running when its timer is stopped and re-armed must not fire for the new
// packet.
type timeouts struct {
	hs      *time.Timer // nil when off or done
	rq      *time.Timer
	rqGen   uint64 // the armed request timer's generation; 0 when disarmed
	nextGen uint64
	closed  bool
}

// startTimers arms the handshake timer and stops both when the connection
// ends.
func (c *conn) startTimers() {
	if d := c.f.cfg.HandshakeTimeout.D(); d > 0 {
		c.to.hs = time.AfterFunc(d, c.handshakeTimedOut)
	}
	c.s.OnClose(func() {
		c.mu.Lock()
		c.to.closed = true
		c.stopHandshakeTimer()
		if c.to.rq != nil {
			c.to.rq.Stop()
		}
		c.mu.Unlock()
	})
}

// stopHandshakeTimer ends the handshake timer; c.mu is held.
func (c *conn) stopHandshakeTimer() {
	if c.to.hs != nil {
		c.to.hs.Stop()
		c.to.hs = nil
	}
}

func (c *conn) handshakeTimedOut() {
	c.mu.Lock()
	fire := c.to.hs != nil && !c.to.closed
	c.to.hs = nil
	c.mu.Unlock()
	if !fire {
		return
	}
	c.f.stats.HandshakeTimeout.Inc()
	c.logInfo("mysql_proxy: closing a client that did not complete the handshake in time",
		"handshake_timeout", c.f.cfg.HandshakeTimeout.D())
	c.s.Abort("mysql_handshake_timeout")
}

// trackRequest arms the request timer when the client's stream stops
// inside a packet after login, and disarms it when the packet is done;
// c.mu is held, after the codec was fed client bytes.
func (c *conn) trackRequest(dec *codec.Session) {
	d := c.f.cfg.RequestTimeout.D()
	if d <= 0 {
		return
	}
	partial := c.ev.loggedIn.Load() && dec.ClientInPacket()
	switch {
	case partial && c.to.rqGen == 0 && !c.to.closed:
		c.to.nextGen++
		gen := c.to.nextGen
		c.to.rqGen = gen
		c.to.rq = time.AfterFunc(d, func() { c.requestTimedOut(gen) })
	case !partial && c.to.rqGen != 0:
		c.to.rqGen = 0
		c.to.rq.Stop()
	}
}

func (c *conn) requestTimedOut(gen uint64) {
	c.mu.Lock()
	fire := c.to.rqGen == gen && !c.to.closed
	c.mu.Unlock()
	if !fire {
		return
	}
	c.f.stats.RequestTimeout.Inc()
	c.logInfo("mysql_proxy: closing a client that left a command unfinished",
		"request_timeout", c.f.cfg.RequestTimeout.D())
	c.s.Abort("mysql_request_timeout")
}

// logInfo logs on the session's logger (absent in unit tests).
func (c *conn) logInfo(msg string, args ...any) {
	if c.s.Log != nil {
		c.s.Log.Info(msg, args...)
	}
}
