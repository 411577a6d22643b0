package mysql

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	codec "github.com/sluice-proxy/sluice/codec/mysql"
	"github.com/sluice-proxy/sluice/filters"
)

// errDenyClose ends a connection whose statement a gate refused with Close,
// or that could not be held for a gate.
var errDenyClose = errors.New("mysql_proxy: statement refused, closing the connection")

// conn is the downstream connection as the terminal sees it. Read returns
// the client's bytes for the server after decoding them, holding each client
// message until it is complete when a gate or TLS termination may need to
// drop or rewrite it; Write decodes the server's bytes and writes them to the
// client.
//
// Read and Write run on different goroutines: mu serializes the codec
// session and the state its callback touches, wmu the writes to the client
// (the terminal's and the filter's own ERR packets).
type conn struct {
	filters.Conn // the accepted connection, below any TLS the filter terminates
	f            *Filter
	s            *filters.Session

	mu  sync.Mutex
	dec *codec.Session
	ev  evState
	to  timeouts

	wmu  sync.Mutex
	down filters.Conn // where the client is written: Conn or the TLS over it

	// Read side, owned by the reading goroutine.
	rd         filters.Conn       // where the client is read: Conn or the TLS over it
	hold       filters.HoldReader // client bytes released for the server
	out        []byte             // buffer behind what process releases on the holding path
	held       []byte             // the client message being held
	stream     bool               // the current message was too long to hold: forwarded as it came
	ct         tracker
	started    bool
	gated      bool           // a SQL gate is registered
	onLoop     bool           // handed over: callbacks run on an event loop's thread
	pause      *filters.Pause // holds the client's reading while a parse runs off the loop
	metaNext   uint64         // statements numbered as they come (publish)
	metaMu     sync.Mutex
	metaLast   uint64 // the number of the statement whose metadata is published
	connPhase  bool   // connection-phase messages may be rewritten (terminate_ssl or upstream_ssl)
	terminated bool   // the client's TLS was terminated here
	loginSeen  bool   // the HandshakeResponse (or a passed-through SSLRequest) went by

	// Connection-phase rewriting: seqDelta is added to client sequence ids
	// and taken from server ones while ev.shift is set: -1 for the
	// SSLRequest the server never saw (terminate_ssl), +1 for the one only
	// the server saw (upstream_ssl), 0 for both. upTLS is set by
	// wrapUpstream when the server leg will become TLS.
	seqDelta atomic.Int32
	upTLS    atomic.Bool

	// Server side during the connection phase, owned by the writing goroutine.
	sphase serverPhase
}

func newConn(f *Filter, s *filters.Session, c filters.Conn) *conn {
	cn := &conn{Conn: c, f: f, s: s, down: c, rd: c}
	cfg := codec.Config{SQLPrefix: f.cfg.MaxSQLBytes}
	cn.dec = codec.NewSession(cfg, cn.onEvent)
	cn.connPhase = f.tls != nil || f.upTLS != nil
	cn.sphase.active = cn.connPhase
	return cn
}

// Read returns client bytes for the server.
func (c *conn) Read(p []byte) (int, error) {
	if !c.started {
		c.started = true
		c.gated = c.s.HasSQLGates()
	}
	return c.hold.Read(clientReader{c}, p, c.process)
}

// clientReader reads the client through c.rd as it is at each read:
// process may switch it to TLS in the middle of a HoldReader.Read.
type clientReader struct{ c *conn }

func (r clientReader) Read(b []byte) (int, error) { return r.c.rd.Read(b) }

// holding reports whether client messages must be held until complete.
func (c *conn) holding() bool {
	if c.ev.stopped.Load() {
		return false
	}
	return c.gated || c.ev.shift.Load() || (c.connPhase && !c.ev.loggedIn.Load())
}

// process decodes a chunk read from the client and returns what the server
// should get now.
func (c *conn) process(chunk []byte) ([]byte, error) {
	if !c.holding() && len(c.held) == 0 && c.ct.idle() {
		c.feed(codec.ClientToServer, chunk)
		return chunk, nil
	}
	c.out = c.out[:0]
	limit := min(max(c.f.cfg.MaxSQLBytes+64, 4096), c.f.limit)
	for len(chunk) > 0 {
		if c.ev.stopped.Load() && !c.stream { // not decoding any more: pass the rest
			c.feed(codec.ClientToServer, chunk)
			c.out = append(append(c.out, c.held...), chunk...)
			c.held = c.held[:0]
			break
		}
		n, done := c.ct.next(chunk)
		seg := chunk[:n]
		chunk = chunk[n:]
		c.feed(codec.ClientToServer, seg)
		if c.stream {
			if done {
				c.stream = false
				if c.ev.takeVerdict().refused() {
					return nil, errDenyClose
				}
			}
			c.out = append(c.out, seg...)
			continue
		}
		c.held = append(c.held, seg...)
		if !done {
			if c.ct.known && !c.ct.fits(limit) {
				c.stream = true
				c.out = append(c.out, c.held...)
				c.held = c.held[:0]
			}
			continue
		}
		rest, err := c.complete(chunk)
		if err != nil {
			return nil, err
		}
		chunk = rest
	}
	return c.out, nil
}

// complete acts on the held message that just ended: forward it (rewritten
// when TLS was terminated), drop it and answer for the server, or start TLS.
// It returns the bytes of the chunk still to process.
func (c *conn) complete(rest []byte) ([]byte, error) {
	msg := c.held
	c.held = c.held[:0]
	v := c.ev.takeVerdict()
	switch {
	case v.sslRequest && c.f.tls != nil:
		if err := c.startTLS(rest); err != nil {
			return nil, err
		}
		return nil, nil // rest was TLS, consumed by the handshake
	case v.Close:
		return nil, fmt.Errorf("%w (policy %q)", errDenyClose, v.Policy)
	case v.Deny:
		return rest, c.answerDenied(msg[3], v.Policy)
	}
	switch {
	case c.connPhase && !c.loginSeen:
		c.loginSeen = true
		// TLS is settled (terminated or not): connection checks that
		// waited for the client certificate (rbac) run before the login
		// goes up.
		if err := c.s.ConnChecksReady(); err != nil {
			return nil, err
		}
		if !v.sslRequest { // an SSLRequest here passes through, as is
			c.handshakeResponse(msg)
		}
	case c.ev.shift.Load():
		msg[3] += byte(c.seqDelta.Load())
	}
	c.out = append(c.out, msg...)
	return rest, nil
}

// answerDenied answers a dropped command with an ERR packet naming the
// policy; the codec session sees it as the server's answer.
func (c *conn) answerDenied(lastSeq byte, policy string) error {
	msg := "access denied by sluice rbac policy '" + policy + "'"
	pkt := codec.AppendErr(nil, lastSeq+1, 1142, "42000", msg)
	c.feed(codec.ServerToClient, pkt)
	c.wmu.Lock()
	_, err := c.down.Write(pkt)
	c.wmu.Unlock()
	if err != nil {
		return fmt.Errorf("mysql_proxy: writing ERR for a denied statement: %w", err)
	}
	return nil
}

// feed runs the codec session over p.
func (c *conn) feed(dir codec.Direction, p []byte) {
	c.mu.Lock()
	c.dec.Feed(dir, p)
	if dir == codec.ClientToServer {
		c.trackRequest(c.dec)
	}
	c.mu.Unlock()
}

// Write decodes server bytes and writes them to the client.
func (c *conn) Write(p []byte) (int, error) {
	if c.sphase.active {
		return c.writeConnPhase(p)
	}
	c.feed(codec.ServerToClient, p)
	c.wmu.Lock()
	n, err := c.down.Write(p)
	c.wmu.Unlock()
	return n, err
}

// CloseWrite half-closes the client side (TLS close_notify when terminated).
func (c *conn) CloseWrite() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.down.CloseWrite()
}

// Close closes the client connection (and its TLS).
func (c *conn) Close() error {
	c.wmu.Lock()
	d := c.down
	c.wmu.Unlock()
	if d != c.Conn {
		d.Close()
	}
	return c.Conn.Close()
}

// monoStart is the origin of mono.
var monoStart = time.Now()

// mono reads the monotonic clock alone (time.Since reads only it; time.Now
// reads the wall clock too), as a duration since monoStart: a query's
// start and end are taken on the event loop for every query.
func mono() time.Duration { return time.Since(monoStart) }

// sinceMono returns milliseconds since t, a mono reading.
func sinceMono(t time.Duration) float64 { return float64((mono() - t).Microseconds()) / 1000 }

// Handover gives the client's bytes to an event loop with the codec as
// callbacks. Only a connection nothing rewrites qualifies: no SQL gate, no
// terminate_ssl or upstream_ssl (connection-phase rewriting). A client's own
// TLS passed through is fine: the codec stops decoding at the SSLRequest.
func (c *conn) Handover() (filters.Taps, bool, error) {
	if !c.started {
		c.started = true
		c.gated = c.s.HasSQLGates()
	}
	if c.gated || c.connPhase || c.rd != c.Conn || c.down != c.Conn {
		return filters.Taps{}, false, nil
	}
	in, ok, err := filters.HandoverOf(c.Conn)
	if !ok || err != nil {
		return in, ok, err
	}
	if in.Pause == nil {
		in.Pause = &filters.Pause{}
	}
	c.pause = in.Pause
	if len(in.Pending) > 0 {
		c.feed(codec.ClientToServer, in.Pending)
	}
	c.onLoop = true
	in.OnRead = filters.ChainTaps(in.OnRead, c.feedClient)
	in.OnWrite = filters.ChainTaps(c.feedServer, in.OnWrite)
	return in, true, nil
}

func (c *conn) feedClient(p []byte) error { c.feed(codec.ClientToServer, p); return nil }
func (c *conn) feedServer(p []byte) error { c.feed(codec.ServerToClient, p); return nil }
