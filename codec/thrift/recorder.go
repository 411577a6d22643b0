package thrift

import (
	"context"
	"io"
	"math"
)

// recorder is a read-only TTransport over the connection's reader that
// keeps every byte read, so that the message the library skipped can be
// forwarded as it came. It fails once more than max bytes are recorded.
type recorder struct {
	r        io.ByteReader
	buf      []byte
	max      int
	tooLarge bool
}

type byteReader interface {
	io.Reader
	io.ByteReader
}

func (t *recorder) over() bool {
	if t.max > 0 && len(t.buf) > t.max {
		t.tooLarge = true
		return true
	}
	return false
}

// Read reads and records.
func (t *recorder) Read(p []byte) (int, error) {
	if t.max > 0 && len(p) > t.max-len(t.buf)+1 {
		p = p[:t.max-len(t.buf)+1]
	}
	n, err := t.r.(byteReader).Read(p)
	t.buf = append(t.buf, p[:n]...)
	if t.over() {
		return n, io.ErrShortBuffer
	}
	return n, err
}

// ReadByte reads and records one byte.
func (t *recorder) ReadByte() (byte, error) {
	b, err := t.r.ReadByte()
	if err != nil {
		return 0, err
	}
	t.buf = append(t.buf, b)
	if t.over() {
		return 0, io.ErrShortBuffer
	}
	return b, nil
}

// The rest of TTransport: nothing to write, open or flush.
func (t *recorder) Write(p []byte) (int, error) { return 0, io.ErrClosedPipe }
func (t *recorder) Close() error                { return nil }
func (t *recorder) Flush(context.Context) error { return nil }
func (t *recorder) RemainingBytes() uint64      { return math.MaxUint64 }
func (t *recorder) IsOpen() bool                { return true }
func (t *recorder) Open() error                 { return nil }
