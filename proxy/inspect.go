package proxy

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"time"
)

// maxHelloBytes bounds what the inspector reads while looking for a
// ClientHello (Envoy's tls_inspector allows 64 KiB).
const maxHelloBytes = 64 << 10

var (
	errHelloDone = errors.New("client hello read")
	// errNotHello: the first record claims to be a handshake but is no
	// ClientHello crypto/tls can parse.
	errNotHello = errors.New("client hello parsing error")
)

// inspectHello reads the start of a connection to learn whether it is TLS and,
// if so, its SNI and ALPN, without consuming anything: the bytes read are
// returned so they can be replayed. crypto/tls parses the ClientHello for us:
// a server handshake over a read-only recorder stops in GetConfigForClient.
// The caller bounds the time with a read deadline.
func inspectHello(c net.Conn) (prefix []byte, isTLS bool, sni string, alpn []string, err error) {
	var first [1]byte
	if _, err := io.ReadFull(c, first[:]); err != nil {
		return nil, false, "", nil, err
	}
	rec := &recorder{r: c, buf: bytes.NewBuffer(first[:])}
	rec.pending = 1
	if first[0] != 0x16 { // not a TLS handshake record
		return rec.buf.Bytes(), false, "", nil, nil
	}
	srv := tls.Server(rec, &tls.Config{GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
		sni, alpn = h.ServerName, append([]string(nil), h.SupportedProtos...)
		return nil, errHelloDone
	}})
	herr := srv.Handshake()
	if !errors.Is(herr, errHelloDone) {
		// Not a parseable ClientHello: pass the bytes on as they are.
		if rec.readErr != nil && !errors.Is(rec.readErr, errTooLong) {
			return rec.buf.Bytes(), false, "", nil, rec.readErr
		}
		if errors.Is(rec.readErr, errTooLong) {
			return rec.buf.Bytes(), false, "", nil, errTooLong
		}
		return rec.buf.Bytes(), false, "", nil, errNotHello
	}
	return rec.buf.Bytes(), true, sni, alpn, nil
}

var errTooLong = errors.New("client hello too long")

// recorder is a net.Conn for crypto/tls that reads from c while keeping every
// byte, and discards writes (an alert, at most).
type recorder struct {
	net.Conn
	r       io.Reader
	buf     *bytes.Buffer
	pending int // bytes at the start of buf not yet handed to the reader
	readErr error
}

func (r *recorder) Read(p []byte) (int, error) {
	if r.pending > 0 {
		n := copy(p, r.buf.Bytes()[r.buf.Len()-r.pending:])
		r.pending -= n
		return n, nil
	}
	if r.buf.Len() >= maxHelloBytes {
		r.readErr = errTooLong
		return 0, errTooLong
	}
	n, err := r.r.Read(p[:min(len(p), maxHelloBytes-r.buf.Len())])
	r.buf.Write(p[:n])
	if err != nil {
		r.readErr = err
	}
	return n, err
}

func (r *recorder) Write(p []byte) (int, error)      { return len(p), nil }
func (r *recorder) Close() error                     { return nil }
func (r *recorder) SetDeadline(time.Time) error      { return nil }
func (r *recorder) SetReadDeadline(time.Time) error  { return nil }
func (r *recorder) SetWriteDeadline(time.Time) error { return nil }
func (r *recorder) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (r *recorder) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
