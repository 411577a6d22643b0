package zookeeper

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// DefaultMaxPacketBytes is Envoy's max_packet_bytes default and ZooKeeper's
// jute.maxbuffer default.
const DefaultMaxPacketBytes = 1 << 20

// Config bounds a Decoder.
type Config struct {
	// MaxPacketBytes is the longest frame body accepted (the 4-byte length
	// prefix not counted); 0 means DefaultMaxPacketBytes.
	MaxPacketBytes int
}

func (c Config) max() int {
	if c.MaxPacketBytes <= 0 {
		return DefaultMaxPacketBytes
	}
	return c.MaxPacketBytes
}

// Errors a Decoder returns, wrapped in a *FrameError.
var (
	// ErrTooLarge: a frame longer than MaxPacketBytes.
	ErrTooLarge = errors.New("frame longer than max_packet_bytes")
	// ErrBadLength: a negative or too short frame length.
	ErrBadLength = errors.New("bad frame length")
	// ErrTruncated: a field runs past the end of its frame.
	ErrTruncated = errors.New("field runs past the end of the frame")
	// ErrBadField: a field with an impossible value (negative length).
	ErrBadField = errors.New("bad field")
)

// FrameError is a malformed frame; the stream cannot be decoded further.
type FrameError struct {
	// Op is the request's opcode when it was read before the error (for
	// per-opcode decoder error stats), else OpError.
	Op  Opcode
	Err error
}

// Error names the opcode when known and the problem.
func (e *FrameError) Error() string {
	if e.Op != OpError {
		return fmt.Sprintf("zookeeper: %s: %v", e.Op.Name(), e.Err)
	}
	return "zookeeper: " + e.Err.Error()
}

// Unwrap returns the sentinel (ErrTooLarge, ...).
func (e *FrameError) Unwrap() error { return e.Err }

// framer cuts a stream into frames, holding a prefix of each body: want
// decides how much (given what is held so far and the body length), and
// frame gets the held prefix once complete; the rest of the body is skipped
// as it passes.
type framer struct {
	max int
	// heldOnly limits only what is held, not the frame (replies: a reply
	// passes whatever its length, only its header is held).
	heldOnly bool
	lenBuf   [4]byte
	nLen     int
	inBody   bool
	n        int // body length
	got      int // body bytes consumed
	held     int // body bytes wanted so far
	done     bool
	buf      []byte
	err      error
}

// mid reports whether the stream stopped inside a frame.
func (f *framer) mid() bool { return f.nLen > 0 || f.inBody }

func (f *framer) feed(p []byte, want func(held []byte, n int) int, frame func(body []byte, n int) error) error {
	if f.err != nil {
		return f.err
	}
	for len(p) > 0 {
		if !f.inBody {
			k := copy(f.lenBuf[f.nLen:], p)
			f.nLen += k
			p = p[k:]
			if f.nLen < 4 {
				return nil
			}
			f.nLen = 0
			n := int(int32(binary.BigEndian.Uint32(f.lenBuf[:])))
			switch {
			case n < 0:
				f.err = &FrameError{Op: OpError, Err: ErrBadLength}
				return f.err
			case n > f.max && !f.heldOnly:
				return f.tooLarge(n)
			}
			f.inBody, f.n, f.got, f.done, f.buf = true, n, 0, false, f.buf[:0]
			f.held = want(nil, n)
			if f.held > f.max {
				return f.tooLarge(n)
			}
		}
		for !f.done && f.got < f.held {
			// Whole held prefix in this chunk, nothing buffered: no copy.
			if len(f.buf) == 0 && len(p) >= f.held-f.got && f.got == 0 {
				body := p[:f.held]
				if w := want(body, f.n); w > f.held {
					if w > f.max {
						return f.tooLarge(f.n)
					}
					if len(p) >= w {
						f.held = w
						continue
					}
					f.buf = append(f.buf, body...)
					f.got, f.held = len(body), w
					p = p[len(body):]
					continue
				}
				f.done = true
				p = p[f.held:]
				f.got = f.held
				if err := f.deliver(body, frame); err != nil {
					return err
				}
				break
			}
			k := min(len(p), f.held-f.got)
			f.buf = append(f.buf, p[:k]...)
			f.got += k
			p = p[k:]
			if f.got < f.held {
				return nil
			}
			if w := want(f.buf, f.n); w > f.held {
				if w > f.max {
					return f.tooLarge(f.n)
				}
				f.held = w
				continue
			}
			f.done = true
			if err := f.deliver(f.buf, frame); err != nil {
				return err
			}
		}
		if !f.done {
			f.done = true
			if err := f.deliver(nil, frame); err != nil {
				return err
			}
		}
		k := min(len(p), f.n-f.got)
		f.got += k
		p = p[k:]
		if f.got == f.n {
			f.inBody = false
			if cap(f.buf) > 64<<10 {
				f.buf = nil // a large frame's buffer is not kept
			}
		}
	}
	return nil
}

func (f *framer) tooLarge(n int) error {
	f.err = &FrameError{Op: OpError, Err: fmt.Errorf("%w: %d > %d", ErrTooLarge, n, f.max)}
	return f.err
}

func (f *framer) deliver(body []byte, frame func([]byte, int) error) error {
	if err := frame(body, f.n); err != nil {
		f.err = err
		return err
	}
	return nil
}
