package httppool

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/sluice-proxy/sluice/codec/http1"
)

// clientConn is one pooled connection as the pool drives it: net/http's
// ClientConn (HTTP/2, and HTTP/1.1 over a TLS config of Options.TLS) or
// h1Conn, the pool's own HTTP/1.1 connection.
type clientConn interface {
	RoundTrip(*http.Request) (*http.Response, error)
	Reserve() error
	Err() error
	Close() error
	Available() int
	InFlight() int
}

// Buffer sizes of an h1Conn. 4 KiB holds the head of a typical request or
// response and a small body in one read or write. Measured with
// BenchmarkRoundTripHTTP1/pool (process CPU for 30,000 requests, three
// alternating runs each, loaded machine): 4 KiB 0.48-0.54 s, 16 KiB
// 0.50-0.54 s, so the smaller one, at a quarter of the memory per pooled
// connection. Large bodies do not go through the buffer: bufio reads
// straight into the caller's 32 KiB copy buffer when its own is empty.
const (
	h1ReadBuf  = 4 << 10
	h1WriteBuf = 4 << 10
	// syncBodyMax: a request body of known length up to this size is
	// written by the calling goroutine before the response is read; it
	// fits the sockets' buffers, so an upstream that answers before reading
	// it cannot block the write. Longer or chunked bodies are written by a
	// goroutine of their own while the response is read. (A client that
	// stalls such a small body delays an upstream's early answer until the
	// body arrives or its timeouts fire.)
	syncBodyMax = 16 << 10
)

// h1Conn is an HTTP/1.1 connection of the pool's own: RoundTrip writes the
// request and reads the response head on the caller's goroutine (the
// response body is read by the caller), with codec/http1's strict reader.
// net/http's persistConn runs a reader and a writer goroutine per
// connection and hands every request and response between them through
// channels; under wrk that machinery (selectgo, chanrecv, the write
// loop's flushes) was a large share of the proxy's CPU. One request at a
// time: the pool never puts a second on an HTTP/1.1 connection.
type h1Conn struct {
	nc  net.Conn
	br  *bufio.Reader
	bw  *bufio.Writer
	lim http1.Limits

	mu       sync.Mutex
	reserved bool
	busy     bool
	used     bool  // carried a request before
	err      error // why it takes no more requests; nil while usable
	once     sync.Once
}

func newH1Conn(nc net.Conn, lim http1.Limits) *h1Conn {
	return &h1Conn{nc: nc, br: bufio.NewReaderSize(nc, h1ReadBuf), bw: bufio.NewWriterSize(nc, h1WriteBuf), lim: lim}
}

var errBusy = errors.New("httppool: connection busy")

// errStale: an idle connection the server closed, found before use; the
// request goes on another connection (it does not count as an attempt).
var errStale = errors.New("httppool: server closed idle connection")

// errConnClosed: the pool closed the connection.
var errConnClosed = errors.New("httppool: connection closed")

// Reserve takes the connection's one slot for the next RoundTrip.
func (c *h1Conn) Reserve() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.err != nil:
		return c.err
	case c.reserved || c.busy:
		return errBusy
	}
	c.reserved = true
	return nil
}

// Err is why the connection takes no more requests (nil while it does).
func (c *h1Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Available is 1 while the connection is idle and usable.
func (c *h1Conn) Available() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil || c.reserved || c.busy {
		return 0
	}
	return 1
}

// InFlight is 1 while a request is reserved or running.
func (c *h1Conn) InFlight() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reserved || c.busy {
		return 1
	}
	return 0
}

// Close closes the connection; a request in flight fails.
func (c *h1Conn) Close() error {
	c.broken(errConnClosed)
	return nil
}

// broken marks the connection unusable with err (the first reason stays)
// and closes the socket.
func (c *h1Conn) broken(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.mu.Unlock()
	c.once.Do(func() { c.nc.Close() })
}

// exchange is one request on an h1Conn.
type exchange struct {
	c     *h1Conn
	req   *http.Request
	stop  func() bool // unhooks the context's cancel; nil without one
	wrote chan error  // the body writer's result; nil when none runs
	wdone bool        // the body was written (synchronously, or the writer's result was taken)
	werr  error

	// The response body (the exchange is the response's Body: one
	// allocation for both).
	body      io.ReadCloser
	closeConn bool
	done      bool
}

// RoundTrip sends req and reads its response head. A reused connection
// that the server closed fails with io.EOF or a reset before any response
// byte (the pool's idleRace).
func (c *h1Conn) RoundTrip(req *http.Request) (*http.Response, error) {
	body := req.Body
	if body == http.NoBody {
		body = nil
	}
	return c.send(req, body)
}

// send is RoundTrip with the body given apart (nil: none), so that the
// pool need not copy the request to swap it.
func (c *h1Conn) send(req *http.Request, body io.ReadCloser) (*http.Response, error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return nil, c.err
	}
	c.reserved, c.busy = false, true
	reused := c.used
	c.used = true
	c.mu.Unlock()
	ex := &exchange{c: c, req: req, wdone: true}
	ctx := req.Context()
	if err := ctx.Err(); err != nil {
		return nil, ex.fail(err)
	}
	hasBody := body != nil
	if reused && (hasBody || !idempotent(req.Method)) && !c.alive() {
		// Not to be sent again if it fails midway: test the connection first.
		return nil, ex.fail(errStale)
	}
	if ctx.Done() != nil {
		ex.stop = context.AfterFunc(ctx, func() { c.nc.SetDeadline(time.Unix(1, 0)) })
	}
	chunked := hasBody && req.ContentLength <= 0
	if err := writeHead(c.bw, req, hasBody, chunked); err != nil {
		return nil, ex.fail(err)
	}
	switch {
	case !hasBody:
		if err := c.bw.Flush(); err != nil {
			return nil, ex.fail(err)
		}
	case !chunked && req.ContentLength <= syncBodyMax:
		if err := writeBody(c.bw, req, body, false); err != nil {
			return nil, ex.fail(err)
		}
	default:
		ex.wrote, ex.wdone = make(chan error, 1), false
		go func() { ex.wrote <- writeBody(c.bw, req, body, chunked) }()
	}
	resp, framing, err := http1.ReadResponse(c.br, req.Method, c.lim, got1xx(ctx))
	if err != nil {
		return nil, ex.fail(ex.cause(err))
	}
	resp.Request = req
	if framing == http1.FramedNone {
		if err := ex.end(resp.Close); err != nil {
			return nil, err
		}
		return resp, nil
	}
	ex.body, ex.closeConn = resp.Body, resp.Close
	resp.Body = ex
	return resp, nil
}

// cause prefers the context's error over the I/O error its cancel caused.
func (ex *exchange) cause(err error) error {
	if cerr := ex.req.Context().Err(); cerr != nil {
		return fmt.Errorf("%w (%v)", cerr, err)
	}
	return err
}

// fail ends the exchange with err; the connection is done.
func (ex *exchange) fail(err error) error {
	if ex.stop != nil {
		ex.stop()
	}
	ex.c.broken(err)
	ex.c.mu.Lock()
	ex.c.busy, ex.c.reserved = false, false
	ex.c.mu.Unlock()
	return err
}

// end finishes a response read to its end: the connection is kept when the
// request was written whole, the response allows it and the context never
// fired.
func (ex *exchange) end(closeAfter bool) error {
	c := ex.c
	keep := !closeAfter
	if ex.stop != nil && !ex.stop() {
		keep = false // the cancel moved the deadline
	}
	if !ex.wdone {
		select {
		case ex.werr = <-ex.wrote:
			ex.wdone = true
		default:
			// Answered before the request was written whole: the rest
			// cannot be taken back from the connection.
			keep = false
		}
	}
	if ex.werr != nil {
		keep = false
	}
	if !keep {
		c.broken(errors.New("httppool: connection not reusable after the response"))
	}
	c.mu.Lock()
	c.busy = false
	c.mu.Unlock()
	return nil
}

// Read reads the response body; its end frees the connection.
func (ex *exchange) Read(p []byte) (int, error) {
	if ex.done {
		return 0, io.EOF
	}
	n, err := ex.body.Read(p)
	if err == io.EOF {
		ex.done = true
		ex.end(ex.closeConn)
	} else if err != nil {
		ex.done = true
		err = ex.fail(ex.cause(err))
	}
	return n, err
}

// Close before the end gives the connection up (the rest of the body is
// still on it).
func (ex *exchange) Close() error {
	if !ex.done {
		ex.done = true
		ex.fail(errClosedEarly)
	}
	return nil
}
