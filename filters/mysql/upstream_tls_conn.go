package mysql

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"

	gm "github.com/go-mysql-org/go-mysql/mysql"
)

// errUpstreamClosed is what a reader waiting for the upgrade gets when the
// connection closes first.
var errUpstreamClosed = errors.New("mysql_proxy: upstream_ssl: connection closed before the handshake response")

// sslRequestLen is the payload length of an SSLRequest: the fixed part of a
// HandshakeResponse41 (capabilities, max packet, charset, 23 reserved bytes,
// of which MariaDB uses the last 4 for its extended capabilities).
const sslRequestLen = 32

// upstreamConn is the server connection under upstream_ssl: require, as the
// terminal sees it. Read serves the greeting read by wrapUpstream, then
// waits until the first client packet has settled what the leg is; Write
// holds that first packet, and when it is a HandshakeResponse sends the
// SSLRequest, completes TLS and sends it over TLS.
//
// Read and Write run on the terminal's two goroutines: rd and err are
// published to the reader by closing ready (once; Close may settle first,
// with an error), wr is the writer's.
type upstreamConn struct {
	net.Conn // the dialed connection, below the TLS
	c        *conn

	greeting []byte // reader-owned: the greeting still to serve

	once   sync.Once
	ready  chan struct{}
	rd     net.Conn // where the server is read once ready: Conn or the TLS
	err    error    // why the upgrade failed, once ready
	waited bool     // reader-owned: ready was seen closed

	wr      net.Conn // writer-owned: nil until the first packet settled it
	pending []byte   // writer-owned: the first client packet, collected
}

func newUpstreamConn(c *conn, up net.Conn, greeting []byte) *upstreamConn {
	return &upstreamConn{Conn: up, c: c, greeting: greeting, ready: make(chan struct{})}
}

// settle publishes the read side: rd, or err when the leg failed. Only the
// first call counts.
func (u *upstreamConn) settle(rd net.Conn, err error) {
	u.once.Do(func() {
		u.rd, u.err = rd, err
		close(u.ready)
	})
}

// plain settles the leg as the dialed connection itself, for both sides;
// the writer's goroutine (or wrapUpstream, before the terminal runs) calls it.
func (u *upstreamConn) plain() {
	u.wr = u.Conn
	u.settle(u.Conn, nil)
}

// Read serves the greeting, then the server's bytes from the settled leg.
func (u *upstreamConn) Read(p []byte) (int, error) {
	if len(u.greeting) > 0 {
		n := copy(p, u.greeting)
		u.greeting = u.greeting[n:]
		return n, nil
	}
	if !u.waited {
		<-u.ready
		u.waited = true
	}
	if u.err != nil {
		return 0, u.err
	}
	return u.rd.Read(p)
}

// Write sends client bytes to the server; the first packet settles the leg.
func (u *upstreamConn) Write(p []byte) (int, error) {
	if u.wr != nil {
		return u.wr.Write(p)
	}
	u.pending = append(u.pending, p...)
	if len(u.pending) > maxConnPhaseBuf+4 {
		return 0, u.fail(fmt.Errorf("first client message over %d bytes", maxConnPhaseBuf))
	}
	if len(u.pending) < 4 || len(u.pending) < 4+plen(u.pending) {
		return len(p), nil // the first packet is not whole yet
	}
	if err := u.upgrade(); err != nil {
		return 0, err
	}
	_, err := u.wr.Write(u.pending)
	u.pending = nil
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

// upgrade acts on the first client packet, whole at the start of pending.
func (u *upstreamConn) upgrade() error {
	pkt := u.pending
	pay := pkt[4 : 4+plen(pkt)]
	if len(pay) < sslRequestLen {
		return u.fail(fmt.Errorf("handshake response of %d bytes, want at least %d", len(pay), sslRequestLen))
	}
	caps := uint32(pay[0]) | uint32(pay[1])<<8 | uint32(pay[2])<<16 | uint32(pay[3])<<24
	if len(pay) == sslRequestLen && caps&gm.CLIENT_SSL != 0 {
		// The client's own SSLRequest (no terminate_ssl): its TLS goes to
		// the server as is.
		u.plain()
		return nil
	}
	if caps&gm.CLIENT_PROTOCOL_41 == 0 {
		return u.fail(errors.New("the client's handshake response is pre-4.1 (no CLIENT_PROTOCOL_41)"))
	}
	if pkt[3] != 2 {
		return u.fail(fmt.Errorf("handshake response has sequence id %d, want 2 after the SSLRequest", pkt[3]))
	}
	pay[1] |= byte(gm.CLIENT_SSL >> 8)
	req := make([]byte, 4+sslRequestLen)
	req[0], req[3] = sslRequestLen, 1
	copy(req[4:], pay[:sslRequestLen])
	if _, err := u.Conn.Write(req); err != nil {
		return u.fail(fmt.Errorf("sending the SSLRequest: %w", err))
	}
	tc := tls.Client(u.Conn, u.c.f.upTLS)
	ctx, cancel := context.WithTimeout(context.Background(), handshakeTimeout)
	err := tc.HandshakeContext(ctx)
	cancel()
	if err != nil {
		return u.fail(fmt.Errorf("TLS handshake with the server: %w", err))
	}
	u.c.f.stats.UpstreamSSLSuccess.Inc()
	u.wr = tc
	u.settle(tc, nil)
	return nil
}

// fail counts and logs a failed upgrade, releases the reader with the
// error and returns it.
func (u *upstreamConn) fail(err error) error {
	err = fmt.Errorf("mysql_proxy: upstream_ssl: %w", err)
	u.c.f.stats.UpstreamSSLFailed.Inc()
	if l := u.c.s.Log; l != nil {
		l.Warn("mysql_proxy: upstream_ssl failed", "err", err)
	}
	u.settle(nil, err)
	return err
}

// CloseWrite half-closes the server leg; before the first packet it
// settles the leg as plain text so that the reader sees the server's end.
func (u *upstreamConn) CloseWrite() error {
	if u.wr == nil {
		u.plain()
	}
	if tc, ok := u.wr.(*tls.Conn); ok {
		tc.CloseWrite() // close_notify; the TCP half-close follows
	}
	if cw, ok := u.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// Close closes the connection and releases a reader waiting for the upgrade.
func (u *upstreamConn) Close() error {
	u.settle(nil, errUpstreamClosed)
	return u.Conn.Close()
}

// plen is a packet header's payload length.
func plen(b []byte) int { return int(b[0]) | int(b[1])<<8 | int(b[2])<<16 }

var _ net.Conn = (*upstreamConn)(nil)
