package httpconn

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"time"
)

// errStreamIdle is the cause of a stream's context ended by its idle
// timeout: the route's idle_timeout, else stream_idle_timeout. Envoy
// answers 408 "stream timeout" (flag SI) when no response has started,
// resets the stream otherwise, and counts downstream_rq_idle_timeout.
var errStreamIdle = errors.New("stream idle timeout")

// streamIdle ends a stream after d without activity: a read of the request
// body, a write of the response. HTTP/1.1 connections also bound body
// reads by a read deadline (h1.go); this covers HTTP/2 streams, the wait
// for the upstream's answer, and a route's own idle_timeout. Activity
// only stores a time; the timer re-arms itself for what is left.
type streamIdle struct {
	d      time.Duration
	last   atomic.Int64 // unix nanoseconds of the last activity
	timer  *time.Timer
	cancel context.CancelCauseFunc
	cause  error
}

func startStreamIdle(ctx context.Context, d time.Duration) (context.Context, *streamIdle) {
	return startIdle(ctx, d, errStreamIdle)
}

// startIdle is startStreamIdle with the cause given (per_try_idle_timeout
// uses its own).
func startIdle(ctx context.Context, d time.Duration, cause error) (context.Context, *streamIdle) {
	ctx, cancel := context.WithCancelCause(ctx)
	s := &streamIdle{d: d, cancel: cancel, cause: cause}
	s.touch()
	s.timer = time.AfterFunc(d, s.check)
	return ctx, s
}

func (s *streamIdle) touch() { s.last.Store(time.Now().UnixNano()) }

func (s *streamIdle) check() {
	if left := s.d - time.Since(time.Unix(0, s.last.Load())); left > 0 {
		s.timer.Reset(left)
		return
	}
	s.cancel(s.cause)
}

// stop ends the timer and releases the context.
func (s *streamIdle) stop() {
	s.timer.Stop()
	s.cancel(context.Canceled)
}

func streamIdleReached(ctx context.Context) bool {
	return errors.Is(context.Cause(ctx), errStreamIdle)
}

// idleBody marks activity on each read of the request body.
type idleBody struct {
	io.ReadCloser
	s *streamIdle
}

func (b idleBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.s.touch()
	return n, err
}

// idleWriter marks activity on each response write.
type idleWriter struct {
	http.ResponseWriter
	s *streamIdle
}

func (w idleWriter) WriteHeader(code int) {
	w.s.touch()
	w.ResponseWriter.WriteHeader(code)
}

func (w idleWriter) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	w.s.touch()
	return n, err
}

// Flush and Unwrap keep the reverse proxy's flushing working.
func (w idleWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w idleWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// idleTimeout is the stream idle bound of a request on route rt: the
// route's idle_timeout (0 disables), else stream_idle_timeout for HTTP/2
// (HTTP/1.1 has its read deadline); 0 for none.
func (m *Manager) idleTimeout(r *http.Request, d time.Duration, routeSet bool) time.Duration {
	if routeSet {
		return d
	}
	if r.ProtoMajor == 2 {
		return m.cfg.StreamIdleTimeout.D()
	}
	return 0
}
