package mysql

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// reader walks a payload with bounds checks. The first failure sticks: later
// reads return zero values and err reports the first problem, so parsers read
// a whole structure and check once.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%s at offset %d: %w", what, r.off, errShort)
	}
}

func (r *reader) left() int { return len(r.b) - r.off }

func (r *reader) u8(what string) byte {
	if r.err != nil || r.left() < 1 {
		r.fail(what)
		return 0
	}
	v := r.b[r.off]
	r.off++
	return v
}

func (r *reader) u16(what string) uint16 {
	if r.err != nil || r.left() < 2 {
		r.fail(what)
		return 0
	}
	v := binary.LittleEndian.Uint16(r.b[r.off:])
	r.off += 2
	return v
}

func (r *reader) u32(what string) uint32 {
	if r.err != nil || r.left() < 4 {
		r.fail(what)
		return 0
	}
	v := binary.LittleEndian.Uint32(r.b[r.off:])
	r.off += 4
	return v
}

// bytes returns the next n bytes (aliasing the payload).
func (r *reader) bytes(n int, what string) []byte {
	if r.err != nil || n < 0 || r.left() < n {
		r.fail(what)
		return nil
	}
	v := r.b[r.off : r.off+n]
	r.off += n
	return v
}

// skip advances n bytes.
func (r *reader) skip(n int, what string) { r.bytes(n, what) }

// nulStr returns the bytes up to a NUL and consumes the NUL.
func (r *reader) nulStr(what string) []byte {
	if r.err != nil {
		return nil
	}
	i := bytes.IndexByte(r.b[r.off:], 0)
	if i < 0 {
		r.fail(what)
		return nil
	}
	v := r.b[r.off : r.off+i]
	r.off += i + 1
	return v
}

// nulStrOrEnd is nulStr that also accepts the end of the payload as the
// terminator (several drivers omit the last NUL of a handshake response).
func (r *reader) nulStrOrEnd() []byte {
	if r.err != nil {
		return nil
	}
	rest := r.b[r.off:]
	if i := bytes.IndexByte(rest, 0); i >= 0 {
		r.off += i + 1
		return rest[:i]
	}
	r.off = len(r.b)
	return rest
}

// rest returns everything left.
func (r *reader) rest() []byte {
	if r.err != nil {
		return nil
	}
	v := r.b[r.off:]
	r.off = len(r.b)
	return v
}

// lenenc reads a length-encoded integer; 0xfb (NULL) reads as 0 and 0xff is
// invalid.
func (r *reader) lenenc(what string) uint64 {
	first := r.u8(what)
	switch {
	case r.err != nil:
		return 0
	case first < 0xfb:
		return uint64(first)
	case first == 0xfb:
		return 0
	case first == 0xfc:
		return uint64(r.u16(what))
	case first == 0xfd:
		b := r.bytes(3, what)
		if b == nil {
			return 0
		}
		return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16
	case first == 0xfe:
		b := r.bytes(8, what)
		if b == nil {
			return 0
		}
		return binary.LittleEndian.Uint64(b)
	}
	if r.err == nil {
		r.err = fmt.Errorf("%s: invalid length-encoded integer prefix 0xff at offset %d", what, r.off-1)
	}
	return 0
}

// lenencStr reads a length-encoded string.
func (r *reader) lenencStr(what string) []byte {
	n := r.lenenc(what)
	if r.err != nil {
		return nil
	}
	if n > uint64(r.left()) {
		r.fail(what)
		return nil
	}
	return r.bytes(int(n), what)
}
