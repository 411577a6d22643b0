package httpconn

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluice-proxy/sluice/codec/http1"
	"github.com/sluice-proxy/sluice/filters"
)

// maxDrain is the most of an unread request body read and dropped to keep
// a connection for the next request; a longer one closes the connection.
const maxDrain = 256 << 10

// h1conn serves one HTTP/1.1 connection: requests one at a time (a
// pipelined request waits in the read buffer until the response before it
// is written, so responses keep their order).
type h1conn struct {
	m  *Manager
	s  *filters.Session
	c  filters.Conn
	br *bufio.Reader
	bw *bufio.Writer
	rc *deadlineReader
	// inRequest and draining coordinate the drain callback with the loop:
	// an idle connection is woken (and closed) at once, a busy one answers
	// with Connection: close.
	inRequest atomic.Bool
	draining  atomic.Bool
	watch     *clientWatch // nil: the connection is not a plain socket
	remote    string       // the client's address, formatted once
	w         h1Writer     // the response writer, reset per request
}

// deadlineReader moves the read deadline forward before every read while a
// stream is active (stream_idle_timeout).
type deadlineReader struct {
	c    net.Conn
	idle time.Duration // 0: none
	n    int64
}

func (d *deadlineReader) Read(p []byte) (int, error) {
	if d.idle > 0 {
		d.c.SetReadDeadline(time.Now().Add(d.idle))
	}
	n, err := d.c.Read(p)
	d.n += int64(n)
	return n, err
}

func (h *h1conn) serve(ctx context.Context) {
	m := h.m
	h.bw = bufio.NewWriterSize(h.c, 4096)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	h.watch = newClientWatch(h.c, h.br, cancel, m.stats.CxDestroyRemoteActiveRq.Inc)
	defer h.watch.disarm() // also when a request ends in a panic
	stop := context.AfterFunc(ctx, func() { h.c.SetReadDeadline(time.Now()) })
	defer stop()
	stopDrain := h.s.OnDrain(func() {
		h.draining.Store(true)
		if !h.inRequest.Load() {
			h.c.SetReadDeadline(time.Now())
		}
	})
	defer stopDrain()
	defer func() { m.stats.CxRxBytes.Add(uint64(h.rc.n)) }()
	for ctx.Err() == nil {
		req, err := h.readHead()
		if err == errDrain {
			break
		}
		if err != nil {
			h.headError(err)
			return
		}
		keep := h.serveOne(ctx, req)
		h.inRequest.Store(false)
		if !keep {
			break
		}
	}
	if h.draining.Load() || ctx.Err() != nil {
		m.stats.CxDrainClose.Inc()
	}
}

// readHead waits for a request under the idle timeout, then reads its head
// under request_headers_timeout (from the first byte).
func (h *h1conn) readHead() (*http.Request, error) {
	cfg := h.m.cfg
	h.rc.idle = 0
	if d := cfg.CommonHTTPProtocolOptions.IdleTimeout.D(); d > 0 {
		h.c.SetReadDeadline(time.Now().Add(d))
	} else {
		h.c.SetReadDeadline(time.Time{})
	}
	if h.draining.Load() {
		return nil, errDrain
	}
	if _, err := h.br.Peek(1); err != nil {
		if h.draining.Load() {
			return nil, errDrain
		}
		if isTimeout(err) {
			h.m.stats.CxIdleTimeout.Inc()
			return nil, errIdle
		}
		return nil, io.EOF
	}
	h.inRequest.Store(true)
	if d := cfg.RequestHeadersTimeout.D(); d > 0 {
		h.c.SetReadDeadline(time.Now().Add(d))
	} else {
		h.c.SetReadDeadline(time.Time{})
	}
	req, err := http1.ReadRequest(h.br, h.m.limits)
	if err != nil {
		if isTimeout(err) && h.draining.Load() {
			return nil, errDrain
		}
		if isTimeout(err) {
			h.m.stats.RqHeaderTimeout.Inc()
			return nil, errHeaderTimeout
		}
		return nil, err
	}
	h.rc.idle = cfg.StreamIdleTimeout.D()
	if h.rc.idle == 0 {
		h.c.SetReadDeadline(time.Time{})
	}
	return req, nil
}

var (
	errIdle          = errors.New("idle timeout")
	errHeaderTimeout = errors.New("request headers timeout")
	errDrain         = errors.New("draining")
)

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// headError answers a request that could not be read: 400, 431, 501 or
// 505 from the codec, 408 on request_headers_timeout; nothing on a clean
// end or an idle timeout. The connection then closes.
func (h *h1conn) headError(err error) {
	status := 0
	reason := err.Error()
	if e, ok := http1.AsError(err); ok {
		status = e.Status
		h.m.stats.CxProtocolError.Inc()
		if status == http.StatusRequestHeaderFieldsTooLarge {
			h.m.stats.RqTooLarge.Inc()
		}
	} else if err == errHeaderTimeout {
		status = http.StatusRequestTimeout
	}
	if status == 0 {
		return
	}
	h.s.Log.Info("http_connection_manager: refused request", "status", status, "reason", reason)
	h.m.stats.countResponse(status)
	h.bw.WriteString("HTTP/1.1 " + strconv.Itoa(status) + " " + http.StatusText(status) + "\r\n" +
		"content-length: 0\r\nconnection: close\r\n\r\n")
	if h.bw.Flush() == nil {
		lingerClose(h.c) // so that unread request bytes do not reset the answer away
	}
}

// serveOne serves one request; it reports whether the connection may carry
// another.
func (h *h1conn) serveOne(ctx context.Context, req *http.Request) bool {
	m := h.m
	if req.ProtoMinor == 0 && !m.cfg.HTTPProtocolOptions.AcceptHTTP10 {
		h.headError(&http1.Error{Status: http.StatusUpgradeRequired, Reason: "HTTP/1.0 not accepted"})
		return false
	}
	// A malformed first chunk is refused before anything is forwarded
	// (unless the client waits for 100 Continue before sending it).
	expect := req.Header.Get("Expect")
	if expect != "" && !strings.EqualFold(expect, "100-continue") {
		h.headError(&http1.Error{Status: http.StatusExpectationFailed, Reason: "unsupported Expect"})
		return false
	}
	if expect == "" {
		if err := http1.PeekChunk(req.Body); err != nil {
			h.headError(err)
			return false
		}
	}
	if h.remote == "" {
		h.remote = h.s.Remote.String()
	}
	req.RemoteAddr = h.remote
	req.TLS = h.s.TLS
	w := &h.w
	w.h = h
	w.reset(req)
	body := req.Body // the codec's reader, for the drain below
	var cont *continueBody
	if expect != "" {
		cont = &continueBody{ReadCloser: req.Body, w: w}
		req.Body = cont
		req.Header.Del("Expect") // answered here, not by the upstream
	}
	lb := &lockedBody{r: req.Body}
	req.Body = lb
	if !isUpgrade(req) && req.Method != http.MethodConnect {
		h.watch.arm(lb)
	}
	m.serveStream(w, req.WithContext(ctx), h.s)
	h.watch.disarm()
	if w.hijacked {
		lb.detach()
		return false
	}
	// The response is finished before the body is detached: detach waits
	// for a read in progress, and an upstream that answered early (its
	// writer still reading a body the client has not finished sending)
	// would otherwise hold the answer back until the client sent more.
	ok := w.finish()
	lb.detach() // the upstream transport may still be reading it
	if !ok || req.Close || w.closeAfter || ctx.Err() != nil || h.draining.Load() {
		return false
	}
	// Keep the connection only when the request body was read to its end.
	if cont != nil && !cont.started.Load() {
		return false
	}
	if lb.ended() {
		return true
	}
	_, err := io.CopyN(io.Discard, body, maxDrain)
	return err == io.EOF
}

// lockedBody hands the request body to the upstream transport, whose
// goroutine may still read it after the handler returned (an upstream that
// answered before the whole body was sent); detach waits for a read in
// progress and ends the transport's access, so the connection's goroutine
// can drain the rest and read the next request.
type lockedBody struct {
	mu       sync.Mutex
	r        io.ReadCloser
	detached bool
	eof      atomic.Bool // read to its end
}

// ended reports that nothing more of the request is to be read from the
// connection.
func (b *lockedBody) ended() bool { return b.r == http.NoBody || b.eof.Load() }

var errDetached = errors.New("http_connection_manager: request finished")

func (b *lockedBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.detached {
		return 0, errDetached
	}
	n, err := b.r.Read(p)
	if err == io.EOF {
		b.eof.Store(true)
	}
	return n, err
}

func (b *lockedBody) Close() error { return nil }

func (b *lockedBody) detach() {
	b.mu.Lock()
	b.detached = true
	b.mu.Unlock()
}

// continueBody sends 100 Continue when the body is first read.
type continueBody struct {
	io.ReadCloser
	w       *h1Writer
	started atomic.Bool // read by the connection's goroutine afterwards
}

func (b *continueBody) Read(p []byte) (int, error) {
	if !b.started.Load() {
		b.started.Store(true)
		b.w.mu.Lock()
		var err error
		if !b.w.wroteHeader {
			b.w.h.bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
			err = b.w.h.bw.Flush()
		}
		b.w.mu.Unlock()
		if err != nil {
			return 0, err
		}
	}
	return b.ReadCloser.Read(p)
}
