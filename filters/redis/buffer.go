package redis

import (
	"errors"
	"io"
)

// buffer is redis_proxy's one byte buffer for bytes in flight: a client's
// replies owed (the ready batch and what a partial write left), an
// upstream connection's request batch and its read buffer, and a slot's
// copy of one reply. It was three hand-written shapes (pend/wbuf pairs,
// wbuf/spare pairs, a grow-and-shrink read slice) with their own reuse
// rules; one type keeps the two bounds in one place:
//
//   - what it holds: a read buffer never holds more than its limit (readFrom
//     reports errFull, and the reader streams the reply instead, see
//     streamreply.go); the write side is bounded by its owner's accounting
//     (a client's reader stops while txHeld is over the buffer limit, and
//     one reply larger than the limit is streamed, never held);
//   - what it keeps: emptied, it keeps its storage only up to keep bytes of
//     capacity, so one large value or batch does not pin its memory for the
//     life of a connection or of a pooled slot.
//
// A buffer is not safe for concurrent use: its owner's lock or role (the
// client's writer role, the upstream connection's mutex) guards it.
type buffer struct {
	b     []byte // the bytes held are b[r:]
	r     int
	spare []byte // storage kept for the next batch while one is out (take/put)
	keep  int
}

const (
	// keepBatch bounds the write batches kept: client reply bytes and
	// upstream request bytes.
	keepBatch = 1 << 20
	// keepSlot bounds a pooled slot's reply and request copies.
	keepSlot = 64 << 10
	// keepRead bounds an upstream connection's kept read buffer.
	keepRead = 64 << 10
	// firstRead is the size of a read buffer's first allocation.
	firstRead = 16 << 10
)

// errFull: the read buffer holds its limit and no byte was consumed.
var errFull = errors.New("redis: read buffer at its limit")

// newBuffer returns an empty buffer that keeps up to keep bytes of storage.
func newBuffer(keep int) buffer { return buffer{keep: keep} }

// bytes returns the bytes held; valid until the next change.
func (x *buffer) bytes() []byte { return x.b[x.r:] }

// len returns how many bytes are held.
func (x *buffer) len() int { return len(x.b) - x.r }

// add appends p.
func (x *buffer) add(p []byte) {
	if x.r > 0 && x.r >= cap(x.b)/2 {
		x.compact()
	}
	x.b = append(x.b, p...)
}

// set replaces what is held with a copy of p.
func (x *buffer) set(p []byte) {
	x.b, x.r = append(x.b[:0], p...), 0
}

// consume drops the first n bytes held; emptied, the buffer is reset.
func (x *buffer) consume(n int) {
	x.r += n
	if x.r >= len(x.b) {
		x.reset()
	}
}

// reset empties the buffer, dropping storage larger than keep.
func (x *buffer) reset() {
	x.b, x.r = reuse(x.b, x.keep), 0
}

// take returns the bytes held and leaves the buffer empty on its spare
// storage, so that others can add while the taken bytes are written
// outside the owner's lock; put gives the taken storage back.
func (x *buffer) take() []byte {
	out := x.b[x.r:]
	x.b, x.r, x.spare = x.spare[:0], 0, nil
	return out
}

// put keeps out's storage (from take) as the spare, under the keep bound.
func (x *buffer) put(out []byte) {
	x.spare = reuse(out, x.keep)
}

// readFrom reads once from rd into the buffer's free space, growing it up
// to limit; errFull when limit bytes are held.
func (x *buffer) readFrom(rd io.Reader, limit int) (int, error) {
	if len(x.b) == cap(x.b) {
		switch {
		case x.b == nil:
			x.b = make([]byte, 0, firstRead)
		case x.r > 0:
			x.compact()
		case cap(x.b) >= limit:
			return 0, errFull
		default:
			nb := make([]byte, len(x.b), min(2*cap(x.b), max(limit, cap(x.b)+1)))
			copy(nb, x.b)
			x.b = nb
		}
	}
	n, err := rd.Read(x.b[len(x.b):cap(x.b)])
	x.b = x.b[:len(x.b)+n]
	return n, err
}

// compact moves the bytes held to the front of the storage.
func (x *buffer) compact() {
	n := copy(x.b, x.b[x.r:])
	x.b, x.r = x.b[:n], 0
}

// reuse returns b emptied for reuse when its capacity is at most bound,
// else nil (the caller allocates afresh next time).
func reuse(b []byte, bound int) []byte {
	if cap(b) > bound {
		return nil
	}
	return b[:0]
}
