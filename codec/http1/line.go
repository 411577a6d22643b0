package http1

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// lineReader reads CRLF-terminated lines, counting them against a budget.
type lineReader struct {
	br     *bufio.Reader
	budget int // bytes left for the head
}

// line returns the next line without its CRLF. The slice is valid until the
// next read. A line longer than the budget is ErrHeadTooLarge; a line ended
// by a bare LF is ErrBareLF.
func (l *lineReader) line() ([]byte, error) {
	p, err := l.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		// A single line longer than the read buffer: refuse when over the
		// budget, else keep it (copied) and read on.
		buf := append([]byte(nil), p...)
		for errors.Is(err, bufio.ErrBufferFull) {
			if len(buf) > l.budget {
				return nil, ErrHeadTooLarge
			}
			p, err = l.br.ReadSlice('\n')
			buf = append(buf, p...)
		}
		p = buf
	}
	if len(p) > l.budget {
		return nil, ErrHeadTooLarge
	}
	l.budget -= len(p)
	if err != nil {
		if err == io.EOF && len(p) > 0 {
			return nil, io.ErrUnexpectedEOF
		}
		return nil, err
	}
	if len(p) < 2 || p[len(p)-2] != '\r' {
		return nil, ErrBareLF
	}
	p = p[:len(p)-2]
	if bytes.IndexByte(p, '\r') >= 0 {
		return nil, bad("CR inside a line")
	}
	return p, nil
}

// tchar reports whether c may appear in a token (RFC 9110 5.6.2).
func tchar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

func isToken(p []byte) bool {
	if len(p) == 0 {
		return false
	}
	for _, c := range p {
		if !tchar(c) {
			return false
		}
	}
	return true
}

// validValue reports whether p holds only field-content octets: VCHAR,
// obs-text, SP and HTAB (no NUL, no other controls, no DEL).
func validValue(p []byte) bool {
	for _, c := range p {
		if (c < 0x20 && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

func trimOWS(p []byte) []byte {
	return bytes.Trim(p, " \t")
}
