package redis

import (
	"io"
	"sync"
)

// Buffer management of Reader: filling, compaction, growth and shrinking.

// idleBufs holds the default-size buffers that Readers with a readiness
// wait (SetWaitReadable) give back while their client is idle, so that a
// proxy's read buffers scale with its active clients, not with every open
// one; redis-server likewise frees an idle client's query buffer.
var idleBufs = sync.Pool{New: func() any { b := make([]byte, defaultBufSize); return &b }}

// SetWaitReadable gives the Reader a function that blocks until src has
// bytes to read, without reading them (a poll for readability). Fill then
// holds no buffer while no command is pending: it returns its buffer to a
// shared pool, waits, and takes one back only once bytes have arrived. An
// error from wait is returned as src's would be.
func (r *Reader) SetWaitReadable(wait func() error) { r.wait = wait }

// waitIdle gives the empty buffer back, waits for src, and takes a buffer
// again.
func (r *Reader) waitIdle() error {
	if len(r.buf) == defaultBufSize {
		b := r.buf
		idleBufs.Put(&b)
	}
	r.buf = nil
	if err := r.wait(); err != nil {
		return err
	}
	r.buf = *idleBufs.Get().(*[]byte)
	return nil
}

// Fill reads once from src into the buffer, compacting or growing it if
// needed. It invalidates the bytes of every command returned before.
func (r *Reader) Fill() error {
	if r.err != nil {
		return r.err
	}
	if r.rerr != nil {
		return r.rerr
	}
	r.scratch = r.scratch[:0]
	switch {
	case r.r == r.w:
		r.r, r.w = 0, 0
		if r.wait != nil && !r.body.on {
			if err := r.waitIdle(); err != nil {
				r.rerr = err
				return err
			}
		} else if len(r.buf) > maxIdleBuf {
			r.buf = make([]byte, defaultBufSize)
		}
	case len(r.buf) > maxIdleBuf && r.w-r.r <= defaultBufSize/2 && r.need <= defaultBufSize:
		nb := make([]byte, defaultBufSize)
		r.w = copy(nb, r.buf[r.r:r.w])
		r.r, r.buf = 0, nb
	}
	if r.buf == nil { // the first Fill, or a wait's buffer given back
		r.buf = make([]byte, defaultBufSize)
	}
	if len(r.buf)-r.w < minReadSpace && r.r > 0 {
		r.w = copy(r.buf, r.buf[r.r:r.w])
		r.r = 0
	}
	if r.w == len(r.buf) {
		r.grow()
	}
	n, err := r.src.Read(r.buf[r.w:])
	r.w += n
	if err != nil {
		r.rerr = err
		if n > 0 {
			return nil
		}
	}
	return err
}

// grow enlarges a full buffer holding one partial command (r == 0). Inside
// a declared bulk it grows fourfold (fivefold to reach the bulk's end in
// one step), never past the bulk's end, so a large value ends in a buffer of
// its own size after few copies, while a client must send a buffer's worth
// before it gets the next one; elsewhere it doubles.
func (r *Reader) grow() {
	n := 2 * len(r.buf)
	if r.need > len(r.buf) {
		n = 4 * len(r.buf)
		if r.need <= n+n/4 { // finish in one step rather than one more copy
			n = r.need
		}
	}
	nb := make([]byte, n)
	copy(nb, r.buf[:r.w])
	r.buf = nb
}

// Feed appends p to the buffer, as if Fill had read it from src: an event
// loop reads a ready client into its own buffer and feeds the Reader, so
// that src is never read. It invalidates the bytes of every command
// returned before. A buffer given back by Idle is taken again from the
// shared pool.
func (r *Reader) Feed(p []byte) {
	r.scratch = r.scratch[:0]
	if r.r == r.w {
		r.r, r.w = 0, 0
	}
	if r.buf == nil {
		r.buf = *idleBufs.Get().(*[]byte)
	}
	for len(p) > 0 {
		if len(r.buf)-r.w < len(p) && r.r > 0 {
			r.w = copy(r.buf, r.buf[r.r:r.w])
			r.r = 0
		}
		if r.w == len(r.buf) {
			r.grow()
		}
		n := copy(r.buf[r.w:], p)
		r.w += n
		p = p[n:]
	}
}

// Idle gives the buffer back to the shared pool when no byte is buffered
// (a fed Reader between reads of an idle client), so that memory follows
// the active clients; the next Feed or Fill takes one again.
func (r *Reader) Idle() {
	if r.r != r.w || r.body.on || r.buf == nil {
		return
	}
	r.r, r.w = 0, 0
	if len(r.buf) == defaultBufSize {
		b := r.buf
		idleBufs.Put(&b)
	}
	r.buf = nil
}

// SetSource has the Reader read from src from now on, keeping what it has
// buffered (a connection an event loop gave back as a new conn over the
// same socket); a readiness wait belonged to the old source and is dropped.
func (r *Reader) SetSource(src io.Reader) {
	r.src = src
	r.wait = nil
}
