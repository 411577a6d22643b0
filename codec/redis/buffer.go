package redis

import "sync"

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
