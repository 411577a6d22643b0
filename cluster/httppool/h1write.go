package httppool

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// writeHead writes req's request line and header block to bw (not
// flushed). The header map is written as it is (the caller removed the
// hop-by-hop fields), except what framing owns: Host, Content-Length,
// Transfer-Encoding and Trailer come from the request's fields. Names
// that are not tokens (a filter's mistake, an HTTP/2 pseudo-header) are
// refused, and CR or LF in a value become spaces, as net/http's writer
// does, so that nothing a filter sets can split the request.
func writeHead(bw *bufio.Writer, req *http.Request, hasBody, chunked bool) error {
	uri := req.URL.RequestURI()
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	if !validToken(req.Method) || strings.ContainsAny(uri, " \r\n") || strings.ContainsAny(host, " \r\n\t") {
		return errors.New("httppool: invalid request line or Host")
	}
	bw.WriteString(req.Method)
	bw.WriteByte(' ')
	bw.WriteString(uri)
	bw.WriteString(" HTTP/1.1\r\nHost: ")
	bw.WriteString(host)
	bw.WriteString("\r\n")
	for k, vs := range req.Header {
		switch k {
		case "Host", "Content-Length", "Transfer-Encoding", "Trailer":
			continue
		}
		if !validToken(k) {
			return fmt.Errorf("httppool: invalid header field name %q", k)
		}
		for _, v := range vs {
			bw.WriteString(k)
			bw.WriteString(": ")
			writeValue(bw, v)
			bw.WriteString("\r\n")
		}
	}
	switch {
	case chunked:
		bw.WriteString("Transfer-Encoding: chunked\r\n")
		if len(req.Trailer) > 0 {
			bw.WriteString("Trailer: ")
			first := true
			for k := range req.Trailer {
				if !validToken(k) {
					continue
				}
				if !first {
					bw.WriteByte(',')
				}
				first = false
				bw.WriteString(k)
			}
			bw.WriteString("\r\n")
		}
	case hasBody:
		bw.WriteString("Content-Length: ")
		bw.WriteString(strconv.FormatInt(req.ContentLength, 10))
		bw.WriteString("\r\n")
	case req.Method == http.MethodPost || req.Method == http.MethodPut || req.Method == http.MethodPatch:
		bw.WriteString("Content-Length: 0\r\n")
	}
	_, err := bw.WriteString("\r\n")
	return err
}

// writeValue writes v with CR, LF and NUL replaced by spaces.
func writeValue(bw *bufio.Writer, v string) {
	if strings.IndexFunc(v, func(r rune) bool { return r == '\r' || r == '\n' || r == 0 }) < 0 {
		bw.WriteString(strings.TrimSpace(v))
		return
	}
	bw.WriteString(strings.TrimSpace(strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == 0 {
			return ' '
		}
		return r
	}, v)))
}

func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

var errShortBody = errors.New("httppool: request body shorter than its Content-Length")

// chunkBufs are the buffers chunked bodies are read through.
var chunkBufs = sync.Pool{New: func() any { b := make([]byte, 16<<10); return &b }}

// writeBody writes req's body (body) after the head already in bw and flushes:
// exactly ContentLength bytes, or chunks (one per read, flushed, so that
// a streaming body flows) ending with req.Trailer. The body is closed
// at the end, as net/http's transport does.
func writeBody(bw *bufio.Writer, req *http.Request, body io.ReadCloser, chunked bool) error {
	defer body.Close()
	if !chunked {
		n, err := io.Copy(bw, io.LimitReader(body, req.ContentLength))
		if err == nil && n < req.ContentLength {
			err = errShortBody
		}
		if err != nil {
			return err
		}
		return bw.Flush()
	}
	bp := chunkBufs.Get().(*[]byte)
	defer chunkBufs.Put(bp)
	buf := *bp
	for {
		n, rerr := body.Read(buf)
		if n > 0 {
			bw.WriteString(strconv.FormatInt(int64(n), 16))
			bw.WriteString("\r\n")
			bw.Write(buf[:n])
			bw.WriteString("\r\n")
			if err := bw.Flush(); err != nil {
				return err
			}
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return rerr
		}
	}
	bw.WriteString("0\r\n")
	for k, vs := range req.Trailer {
		if !validToken(k) {
			continue
		}
		for _, v := range vs {
			bw.WriteString(k)
			bw.WriteString(": ")
			writeValue(bw, v)
			bw.WriteString("\r\n")
		}
	}
	bw.WriteString("\r\n")
	return bw.Flush()
}
