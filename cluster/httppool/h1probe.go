package httppool

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"syscall"
)

// idempotent reports methods a reused connection may carry untested: a
// failure before any answer sends them again (idleRace).
func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}

// got1xx hands informational responses to the caller's httptrace hook
// (the reverse proxy forwards 103 Early Hints through it).
func got1xx(ctx context.Context) func(int, http.Header) {
	if f, ok := ctx.Value(informationalKey{}).(func(int, http.Header)); ok {
		return f
	}
	tr := httptrace.ContextClientTrace(ctx)
	if tr == nil || tr.Got1xxResponse == nil {
		return nil
	}
	return func(code int, h http.Header) { tr.Got1xxResponse(code, textproto.MIMEHeader(h)) }
}

// alive tests an idle connection without blocking: a server that closed
// it (or sent something unasked) makes it unusable. One recv(MSG_PEEK).
func (c *h1Conn) alive() bool {
	if c.br.Buffered() > 0 {
		return false
	}
	sc, isTLS := rawConn(c.nc)
	if sc == nil {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	ok := true
	rc.Read(func(fd uintptr) bool {
		var b [1]byte
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		// EAGAIN: nothing to read, alive. 0 bytes: the server's FIN. A
		// byte on plain TCP is an answer nobody asked for (a 408 before a
		// close); over TLS it may be a session ticket, left to the reader.
		ok = err == syscall.EAGAIN || (err == nil && n > 0 && isTLS)
		return true
	})
	return ok
}

// rawConn finds the TCP socket under the pool's wrappers and TLS.
func rawConn(nc net.Conn) (sc syscall.Conn, isTLS bool) {
	if u, ok := nc.(*upConn); ok {
		nc = u.UpstreamConn.Conn
	}
	if tc, ok := nc.(*tls.Conn); ok {
		nc, isTLS = tc.NetConn(), true
	}
	sc, _ = nc.(syscall.Conn)
	return sc, isTLS
}
