package httppool

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/sluice-proxy/sluice/cluster"
)

// outgoing is req as sent on c: a shallow copy with a URL a client
// connection accepts (a server request has RequestURI and no host).
func outgoing(req *http.Request, h *cluster.Host, c *conn, body *trackedBody) *http.Request {
	out := req.WithContext(req.Context())
	out.RequestURI = ""
	u := *req.URL
	if u.Host == "" {
		u.Host = req.Host
		if u.Host == "" {
			u.Host = h.Address()
		}
	}
	if u.Scheme == "" || (u.Scheme == "https") != c.tls {
		u.Scheme = "http"
		if c.tls {
			u.Scheme = "https"
		}
	}
	out.URL = &u
	if body != nil {
		out.Body = body
	}
	return out
}

// trackedBody is a request body that can be sent again while nothing of it
// was read: net/http closes a request body on every failed RoundTrip, so
// the close is held back until the request is over or bytes were read.
type trackedBody struct {
	rc   io.ReadCloser
	read atomic.Bool
	once sync.Once
}

func trackBody(req *http.Request) *trackedBody {
	if req.Body == nil || req.Body == http.NoBody {
		return nil
	}
	return &trackedBody{rc: req.Body}
}

// readCloser is b as an io.ReadCloser; nil (no body) for a nil b.
func (b *trackedBody) readCloser() io.ReadCloser {
	if b == nil {
		return nil
	}
	return b
}

func (b *trackedBody) Read(p []byte) (int, error) {
	b.read.Store(true)
	return b.rc.Read(p)
}

// Close closes the body once bytes went out; before that it is kept for
// another attempt and closed by finish.
func (b *trackedBody) Close() error {
	if b.read.Load() {
		return b.finish()
	}
	return nil
}

func (b *trackedBody) finish() error {
	var err error
	b.once.Do(func() { err = b.rc.Close() })
	return err
}

// errClosedEarly: the caller closed the response body before its end.
var errClosedEarly = errors.New("response body closed before its end")

// finishWith makes done run once when resp's body ends: nil at EOF,
// errClosedEarly when closed before, or the read error.
func (p *Pool) finishWith(resp *http.Response, done func(error)) {
	if resp.Body == nil || resp.Body == http.NoBody {
		done(nil)
		return
	}
	resp.Body = &respBody{rc: resp.Body, done: done}
}

type respBody struct {
	rc   io.ReadCloser
	once sync.Once
	done func(error)
}

func (b *respBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err == io.EOF {
		b.end(nil)
	} else if err != nil {
		b.end(err)
	}
	return n, err
}

func (b *respBody) Close() error {
	err := b.rc.Close()
	b.end(errClosedEarly)
	return err
}

func (b *respBody) end(err error) { b.once.Do(func() { b.done(err) }) }

// retryable reports errors of requests the server did not process, which
// may go again on another connection. net/http does not export them; the
// texts are its HTTP/2 client's (h2_bundle.go) and HTTP/1 transport's.
func retryable(err error) bool {
	s := err.Error()
	for _, m := range []string{
		"http2: client conn not usable",
		"http2: Transport received Server's graceful shutdown GOAWAY",
		"REFUSED_STREAM",
		"http2: client conn is closed",
		"http: server closed idle connection",
	} {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}

// idleRace reports the keep-alive race of HTTP/1.1: a reused connection
// that the server closed as the request went out (after an early answer,
// or at its idle timeout) fails with EOF or a reset before any response
// byte. An idempotent request without a body is sent again on another
// connection, as net/http's Transport does; Envoy answers 503 UC here.
func idleRace(err error, req *http.Request, body *trackedBody) bool {
	if body != nil {
		return false
	}
	if !idempotent(req.Method) {
		return false
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	s := err.Error()
	return strings.Contains(s, "EOF") || strings.Contains(s, "connection reset") || strings.Contains(s, "broken pipe")
}
