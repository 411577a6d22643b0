package mysql

import (
	"crypto/tls"
	"fmt"
	"time"

	gm "github.com/go-mysql-org/go-mysql/mysql"

	codec "github.com/sluice-proxy/sluice/codec/mysql"
	"github.com/sluice-proxy/sluice/filters"
)

// handshakeTimeout bounds the client's TLS handshake.
const handshakeTimeout = 10 * time.Second

// maxConnPhaseBuf bounds the server bytes buffered during the connection
// phase (greeting and auth packets are small).
const maxConnPhaseBuf = 64 << 10

// serverPhase is the server side of the connection phase under
// terminate_ssl or upstream_ssl: whole packets are collected so that the
// greeting can offer TLS and sequence ids can be shifted.
type serverPhase struct {
	active  bool
	greeted bool
	buf     []byte
	out     []byte
}

// prefixed replays bytes read ahead before reading the connection.
type prefixed struct {
	filters.Conn
	prefix []byte
}

func (p *prefixed) Read(b []byte) (int, error) {
	if len(p.prefix) > 0 {
		n := copy(b, p.prefix)
		p.prefix = p.prefix[n:]
		return n, nil
	}
	return p.Conn.Read(b)
}

// startTLS completes TLS with the client after its SSLRequest; rest holds
// the bytes read after the SSLRequest (the start of the ClientHello).
func (c *conn) startTLS(rest []byte) error {
	pre := &prefixed{Conn: c.Conn, prefix: append([]byte(nil), rest...)}
	tc := tls.Server(pre, c.f.tls)
	c.Conn.SetDeadline(time.Now().Add(handshakeTimeout))
	err := tc.Handshake()
	c.Conn.SetDeadline(time.Time{})
	if err != nil {
		return fmt.Errorf("mysql_proxy: terminate_ssl: TLS handshake with the client: %w", err)
	}
	st := tc.ConnectionState()
	c.s.SetTLS(&st, st.ServerName)
	c.mu.Lock()
	c.dec.ResumeTLS()
	c.mu.Unlock()
	c.seqDelta.Store(-1)
	c.ev.shift.Store(true)
	c.terminated = true
	c.wmu.Lock()
	c.down = tc
	c.wmu.Unlock()
	c.rd = tc
	return nil
}

// handshakeResponse prepares the client's HandshakeResponse for the server:
// under upstream_ssl the server leg gains an SSLRequest (the server's
// sequence ids run one ahead of the client's, and upstreamConn sets
// CLIENT_SSL); a terminated client TLS that the server leg does not have is
// taken out of CLIENT_SSL, which the server would otherwise take for a TLS
// request.
func (c *conn) handshakeResponse(msg []byte) {
	if c.upTLS.Load() {
		c.seqDelta.Add(1)
		c.ev.shift.Store(true)
	} else if c.terminated && len(msg) >= 8 {
		msg[5] &^= byte(gm.CLIENT_SSL >> 8)
	}
	msg[3] += byte(c.seqDelta.Load())
}

// writeConnPhase writes server bytes during the connection phase under
// terminate_ssl or upstream_ssl: the greeting offers CLIENT_SSL (when
// terminating), later packets carry the client's sequence ids.
func (c *conn) writeConnPhase(p []byte) (int, error) {
	sp := &c.sphase
	sp.buf = append(sp.buf, p...)
	if len(sp.buf) > maxConnPhaseBuf {
		return 0, fmt.Errorf("mysql_proxy: %d bytes of server packets in the connection phase", len(sp.buf))
	}
	b := sp.buf
	sp.out = sp.out[:0]
	for sp.active && len(b) >= 4 {
		n := 4 + (int(b[0]) | int(b[1])<<8 | int(b[2])<<16)
		if len(b) < n {
			break
		}
		pkt := b[:n]
		b = b[n:]
		if !sp.greeted {
			sp.greeted = true
			if c.f.tls != nil {
				offerSSL(pkt)
			}
		} else if c.ev.shift.Load() {
			pkt[3] -= byte(c.seqDelta.Load())
		}
		c.feed(codec.ServerToClient, pkt)
		sp.out = append(sp.out, pkt...)
		if c.ev.loggedIn.Load() || c.ev.stopped.Load() {
			sp.active = false
		}
	}
	if !sp.active && len(b) > 0 {
		c.feed(codec.ServerToClient, b)
		sp.out = append(sp.out, b...)
		b = nil
	}
	sp.buf = append(sp.buf[:0], b...)
	c.wmu.Lock()
	_, err := c.down.Write(sp.out)
	c.wmu.Unlock()
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

// offerSSL sets CLIENT_SSL in a v10 greeting's lower capability flags; an
// ERR greeting, or a protocol we do not rewrite, is left alone.
func offerSSL(pkt []byte) {
	if i := greetingCapsAt(pkt); i >= 0 {
		pkt[i+1] |= byte(gm.CLIENT_SSL >> 8)
	}
}
