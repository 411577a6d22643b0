package http1

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
)

// chunked reads a chunked body strictly (RFC 9112 7.1): hex sizes of at
// most 15 digits, extensions made of visible characters, CRLF everywhere,
// and a bounded trailer block stored into trailer at the end.
type chunked struct {
	lr      lineReader
	lim     Limits
	trailer http.Header
	left    int64 // bytes left in the current chunk
	started bool
	crlfDue bool // the CRLF after a chunk's data is still to be read
	done    bool
	err     error
}

func newChunked(br *bufio.Reader, lim Limits, trailer http.Header) *chunked {
	return &chunked{lr: lineReader{br: br}, lim: lim, trailer: trailer}
}

// start reads the first chunk-size line if not read yet.
func (c *chunked) start() error {
	if c.started || c.err != nil {
		return c.err
	}
	c.started = true
	c.err = c.sizeLine()
	return c.err
}

// sizeLine reads a chunk-size line and, for the last chunk, the trailers.
func (c *chunked) sizeLine() error {
	c.lr.budget = 4096
	line, err := c.lr.line()
	if err != nil {
		if err == io.EOF {
			return io.ErrUnexpectedEOF
		}
		if err == ErrHeadTooLarge {
			return bad("chunk size line too long")
		}
		return err
	}
	if i := bytes.IndexByte(line, ';'); i >= 0 {
		if !validValue(line[i+1:]) {
			return bad("invalid chunk extension")
		}
		line = line[:i]
	}
	line = bytes.TrimRight(line, " \t")
	if len(line) == 0 || len(line) > 15 {
		return bad("invalid chunk size")
	}
	var n int64
	for _, d := range line {
		switch {
		case d >= '0' && d <= '9':
			d -= '0'
		case d >= 'a' && d <= 'f':
			d -= 'a' - 10
		case d >= 'A' && d <= 'F':
			d -= 'A' - 10
		default:
			return bad("invalid chunk size")
		}
		n = n<<4 | int64(d)
	}
	c.left = n
	if n == 0 {
		c.lr.budget = c.lim.MaxHeaderBytes
		h, err := readFields(&c.lr, c.lim.MaxHeaders)
		if err != nil {
			if err == io.EOF {
				return io.ErrUnexpectedEOF
			}
			return err
		}
		for k, v := range h {
			c.trailer[k] = v
		}
		c.done = true
	}
	return nil
}

func (c *chunked) Read(p []byte) (int, error) {
	if err := c.start(); err != nil {
		return 0, err
	}
	for c.left == 0 && !c.done {
		if c.crlfDue {
			if c.err = c.crlf(); c.err != nil {
				return 0, c.err
			}
			c.crlfDue = false
		}
		if c.err = c.sizeLine(); c.err != nil {
			return 0, c.err
		}
	}
	if c.done {
		return 0, io.EOF
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.lr.br.Read(p)
	c.left -= int64(n)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	// The CRLF after the data is checked on the next read, so that data
	// already here is not held back waiting for it.
	c.crlfDue = c.left == 0
	if err != nil {
		c.err = err
	}
	return n, err
}

// crlf consumes the CRLF after a chunk's data.
func (c *chunked) crlf() error {
	b, err := c.lr.br.Peek(2)
	if err != nil {
		if err == io.EOF {
			return io.ErrUnexpectedEOF
		}
		return err
	}
	if b[0] != '\r' || b[1] != '\n' {
		return bad("chunk data not followed by CRLF")
	}
	c.lr.br.Discard(2)
	return nil
}
