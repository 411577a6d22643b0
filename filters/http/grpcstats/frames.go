package grpcstats

import (
	"io"
	"net/http"
)

// frameCounter counts gRPC messages in a byte stream as it goes by: each
// message is a 1-byte flag, a 4-byte big-endian length and that many bytes.
type frameCounter struct {
	n    uint64 // messages whose prefix was seen
	hdr  int    // prefix bytes seen of the current message (0..5)
	len  uint32 // the prefix's length, as it is read
	skip uint64 // message bytes still to pass over
}

// feed advances over p.
func (c *frameCounter) feed(p []byte) {
	for len(p) > 0 {
		if c.skip > 0 {
			k := uint64(len(p))
			if k > c.skip {
				k = c.skip
			}
			c.skip -= k
			p = p[k:]
			continue
		}
		if c.hdr > 0 { // the 4 length bytes follow the flag
			c.len = c.len<<8 | uint32(p[0])
		}
		c.hdr++
		p = p[1:]
		if c.hdr == 5 {
			c.n++
			c.skip, c.hdr, c.len = uint64(c.len), 0, 0
		}
	}
}

// countingBody counts the request's messages as the router reads it.
type countingBody struct {
	io.ReadCloser
	c *frameCounter
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.c.feed(p[:n])
	return n, err
}

// countingWriter counts the response's messages as they are written.
type countingWriter struct {
	http.ResponseWriter
	c frameCounter
}

func (w *countingWriter) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	w.c.feed(p[:n])
	return n, err
}

// Flush keeps responses streaming (gRPC server streams).
func (w *countingWriter) Flush() { http.NewResponseController(w.ResponseWriter).Flush() }

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
