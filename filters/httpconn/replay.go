package httpconn

import (
	"errors"
	"io"
	"sync"
	"sync/atomic"
)

// replay keeps the request body read so far, up to limit bytes, so that a
// retry (or a mirror) can send it again: Envoy's rule, a body beyond the
// buffer limit is not retried. Each attempt reads through its own view:
// the buffered bytes first, then on from the downstream body, recording
// as it goes, so a retry never waits for the whole body before it starts
// and a body is never read twice from the client. An earlier attempt's
// transport may still be reading its view (net/http writes request bodies
// on its own goroutine); reads from the source are serialised so every
// byte is recorded once, in order.
type replay struct {
	src    io.ReadCloser
	limit  int64
	want   int64
	readMu sync.Mutex // held while reading src

	mu    sync.Mutex
	buf   []byte
	n     int64 // bytes read from src
	over  bool  // more than limit read: buf dropped, no replay
	err   error // src's terminal error (io.EOF at its end)
	last  *view
	final bool // no further attempt: the last view's Close closes src
	// done, when set, is called once at the body's end with the whole
	// body (ok) or without it (over the limit); see mirrors.
	done func(body []byte, ok bool)
}

// onComplete sets the end-of-body callback.
func (r *replay) onComplete(f func(body []byte, ok bool)) {
	r.mu.Lock()
	r.done = f
	r.mu.Unlock()
}

var errReplayLost = errors.New("request body over the buffer limit: not replayable")

// newReplay keeps src's first limit bytes; want is its length, -1 when
// unknown (its end is then its EOF).
func newReplay(src io.ReadCloser, limit, want int64) *replay {
	r := &replay{src: src, limit: limit, want: want}
	if want > 0 && want <= limit {
		r.buf = make([]byte, 0, want) // one allocation for a known length
	}
	return r
}

// view is one attempt's reader of the body.
type view struct {
	r      *replay
	off    int64
	closed atomic.Bool
}

// view starts a new attempt's reader at the body's first byte.
func (r *replay) view() *view {
	v := &view{r: r}
	r.mu.Lock()
	r.last = v
	r.mu.Unlock()
	return v
}

// replayable reports whether every byte read so far is still kept.
func (r *replay) replayable() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return !r.over
}

// complete reports whether the whole body has been read from the client.
func (r *replay) complete() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err == io.EOF || (r.want >= 0 && r.n == r.want)
}

// finish marks the last attempt: its view's Close closes the downstream
// body (see closeThrough), now if it was closed already.
func (r *replay) finish() {
	r.mu.Lock()
	r.final = true
	closeNow := r.last != nil && r.last.closed.Load()
	r.mu.Unlock()
	if closeNow {
		r.src.Close()
	}
}

func (v *view) Read(p []byte) (int, error) {
	if v.closed.Load() {
		return 0, io.ErrClosedPipe
	}
	r := v.r
	for {
		r.mu.Lock()
		if v.off < r.n {
			if r.over {
				r.mu.Unlock()
				return 0, errReplayLost
			}
			k := copy(p, r.buf[v.off:])
			v.off += int64(k)
			r.mu.Unlock()
			return k, nil
		}
		if r.err != nil {
			err := r.err
			r.mu.Unlock()
			return 0, err
		}
		r.mu.Unlock()

		r.readMu.Lock()
		r.mu.Lock()
		behind := v.off < r.n || r.err != nil // another view read meanwhile
		r.mu.Unlock()
		if behind {
			r.readMu.Unlock()
			continue
		}
		k, err := r.src.Read(p)
		r.mu.Lock()
		if k > 0 {
			if !r.over && r.n+int64(k) <= r.limit {
				r.buf = append(r.buf, p[:k]...)
			} else if !r.over {
				r.over, r.buf = true, nil
			}
			r.n += int64(k)
			v.off += int64(k)
		}
		var done func([]byte, bool)
		if err != nil {
			r.err = err
		}
		if (err == io.EOF || (r.want >= 0 && r.n == r.want)) && r.done != nil {
			done, r.done = r.done, nil
		}
		buf, over := r.buf, r.over
		r.mu.Unlock()
		r.readMu.Unlock()
		if done != nil {
			done(buf, !over)
		}
		return k, err
	}
}

// Close ends this view; the downstream body is closed only by the last
// attempt's view (an earlier one's transport closing its body must not end
// the client's request).
func (v *view) Close() error {
	if v.closed.Swap(true) {
		return nil
	}
	r := v.r
	r.mu.Lock()
	closeSrc := r.final && r.last == v
	r.mu.Unlock()
	if closeSrc {
		return r.src.Close()
	}
	return nil
}
