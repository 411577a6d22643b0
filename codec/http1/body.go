package http1

import (
	"bufio"
	"io"
)

// lengthBody reads exactly n bytes; an early EOF is io.ErrUnexpectedEOF.
type lengthBody struct {
	r *bufio.Reader
	n int64
}

func (b *lengthBody) Read(p []byte) (int, error) {
	if b.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.n {
		p = p[:b.n]
	}
	n, err := b.r.Read(p)
	b.n -= int64(n)
	if err == io.EOF {
		if b.n > 0 {
			return n, io.ErrUnexpectedEOF
		}
	}
	if b.n == 0 && err == nil {
		err = io.EOF
	}
	return n, err
}

// Close does nothing: the connection owner drains or closes.
func (b *lengthBody) Close() error { return nil }

// Remaining returns the body bytes not read yet.
func (b *lengthBody) Remaining() int64 { return b.n }

type chunkedBody struct{ r *chunked }

func (b *chunkedBody) Read(p []byte) (int, error) { return b.r.Read(p) }
func (b *chunkedBody) Close() error               { return nil }

// PeekChunk checks the first chunk-size line of a chunked body before
// anything is forwarded, so that a malformed one is refused with nothing
// sent upstream. It blocks until the line arrives. Other bodies: nil.
func PeekChunk(body io.Reader) error {
	if b, ok := body.(*chunkedBody); ok {
		return b.r.start()
	}
	return nil
}
