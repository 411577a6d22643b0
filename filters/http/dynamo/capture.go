package dynamo

import (
	"io"
	"net/http"
	"sync"
)

// capture keeps the first limit bytes that stream through it; over is set
// when more went by. The request body is read on the upstream transport's
// goroutine while the response is seen on the handler's, hence the lock.
type capture struct {
	mu    sync.Mutex
	limit int
	buf   []byte
	over  bool
}

func (c *capture) add(p []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if room := c.limit - len(c.buf); room >= len(p) {
		c.buf = append(c.buf, p...)
	} else {
		c.over = true
	}
}

// bytes returns what was kept and whether the body exceeded the bound.
func (c *capture) bytes() ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf, c.over
}

// teeBody streams a request body to the upstream, copying it into c.
type teeBody struct {
	r io.ReadCloser
	c *capture
}

func (t *teeBody) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 {
		t.c.add(p[:n])
	}
	return n, err
}

func (t *teeBody) Close() error { return t.r.Close() }

// recorder passes the response on while noting its status and copying its
// body into c.
type recorder struct {
	http.ResponseWriter
	status int
	c      *capture
}

func (w *recorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.c.add(p)
	return w.ResponseWriter.Write(p)
}

// Flush keeps streaming responses streaming.
func (w *recorder) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection manager's writer.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }
