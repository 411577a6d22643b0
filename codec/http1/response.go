package http1

import (
	"bufio"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// maxInformational bounds the 1xx responses read before a final one.
const maxInformational = 16

// ResponseFraming says how a response read by ReadResponse ends.
type ResponseFraming uint8

const (
	// FramedNone: no body (HEAD, 1xx, 204, 304, Content-Length 0).
	FramedNone ResponseFraming = iota
	// FramedLength: Content-Length bytes.
	FramedLength
	// FramedChunked: chunked, with trailers.
	FramedChunked
	// FramedClose: the body runs to the end of the connection.
	FramedClose
)

// ReadResponse reads one response to a request with the given method from
// br: informational (1xx) responses before the final one are passed to
// got1xx (when not nil) and skipped, except 101, which is final. The
// returned Body reads exactly the body (Content-Length, chunked with
// trailers into Trailer, or up to the connection's end); HEAD, 204 and 304
// have none. Response.Close reports that the connection cannot carry
// another request after this body (Connection: close, HTTP/1.0 without
// keep-alive, a close-delimited body, 101). The framing rules are the
// request reader's: Content-Length together with Transfer-Encoding,
// differing Content-Lengths, a transfer coding other than chunked, bare
// LF, obs-fold and control characters are refused with an *Error, so a
// malformed upstream is a failed exchange rather than a desynchronised
// connection.
func ReadResponse(br *bufio.Reader, method string, lim Limits, got1xx func(code int, h http.Header)) (*http.Response, ResponseFraming, error) {
	if lim.MaxHeaderBytes <= 0 {
		lim.MaxHeaderBytes = DefaultLimits.MaxHeaderBytes
	}
	if lim.MaxHeaders <= 0 {
		lim.MaxHeaders = DefaultLimits.MaxHeaders
	}
	for n := 0; ; n++ {
		lr := &lineReader{br: br, budget: lim.MaxHeaderBytes}
		line, err := lr.line()
		if err != nil {
			if err == io.ErrUnexpectedEOF && n == 0 && lr.budget == lim.MaxHeaderBytes {
				return nil, 0, io.EOF // nothing at all: the server closed
			}
			return nil, 0, err
		}
		resp, err := parseStatusLine(line)
		if err != nil {
			return nil, 0, err
		}
		if resp.Header, err = readFields(lr, lim.MaxHeaders); err != nil {
			return nil, 0, err
		}
		if resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			f, err := frameResponse(resp, method, br, lim)
			if err != nil {
				return nil, 0, err
			}
			return resp, f, nil
		}
		if n >= maxInformational {
			return nil, 0, bad("too many informational responses")
		}
		if got1xx != nil {
			got1xx(resp.StatusCode, resp.Header)
		}
	}
}

// parseStatusLine parses "HTTP/1.x SP 3DIGIT SP [reason]".
func parseStatusLine(line []byte) (*http.Response, error) {
	if len(line) < 12 || string(line[:7]) != "HTTP/1." || line[8] != ' ' || (len(line) > 12 && line[12] != ' ') {
		return nil, bad("malformed status line")
	}
	resp := &http.Response{ProtoMajor: 1}
	switch line[7] {
	case '1':
		resp.Proto, resp.ProtoMinor = "HTTP/1.1", 1
	case '0':
		resp.Proto = "HTTP/1.0"
	default:
		return nil, &Error{Status: 505, Reason: "unsupported protocol version"}
	}
	code := 0
	for _, c := range line[9:12] {
		if c < '0' || c > '9' {
			return nil, bad("malformed status code")
		}
		code = code*10 + int(c-'0')
	}
	if code < 100 {
		return nil, bad("malformed status code")
	}
	if len(line) > 13 && !validValue(line[13:]) {
		return nil, bad("invalid character in the reason phrase")
	}
	resp.StatusCode = code
	resp.Status = statusText(code, line)
	return resp, nil
}

// statusText is Response.Status ("200 OK"), shared for the usual phrase.
func statusText(code int, line []byte) string {
	if len(line) <= 13 {
		return strconv.Itoa(code)
	}
	reason := line[13:]
	if t := http.StatusText(code); t == string(reason) {
		return statusLines[code]
	}
	return string(line[9:])
}

// statusLines caches "<code> <reason>" for every code net/http names.
var statusLines = func() map[int]string {
	m := map[int]string{}
	for c := 100; c < 600; c++ {
		if t := http.StatusText(c); t != "" {
			m[c] = strconv.Itoa(c) + " " + t
		}
	}
	return m
}()

// frameResponse decides the body's length (RFC 9112 6.3) and sets
// ContentLength, TransferEncoding, Trailer, Close and Body.
func frameResponse(resp *http.Response, method string, br *bufio.Reader, lim Limits) (ResponseFraming, error) {
	h := resp.Header
	resp.Close = responseClose(resp)
	te, hasTE := h["Transfer-Encoding"]
	cl, hasCL := h["Content-Length"]
	resp.ContentLength = -1
	if hasCL {
		for _, v := range cl[1:] {
			if v != cl[0] {
				return 0, bad("differing Content-Length values")
			}
		}
		n, err := parseLength(cl[0])
		if err != nil {
			return 0, err
		}
		if len(cl) > 1 {
			h["Content-Length"] = cl[:1]
		}
		resp.ContentLength = n
	}
	code := resp.StatusCode
	switch {
	case code == http.StatusSwitchingProtocols:
		resp.Close = true
		resp.ContentLength = -1
		resp.Body = &eofBody{r: br}
		return FramedClose, nil
	case method == http.MethodHead || code == http.StatusNoContent || code == http.StatusNotModified:
		// The head may describe the body it would have; none follows.
		if code == http.StatusNoContent {
			resp.ContentLength = 0
		}
		resp.Body = http.NoBody
		return FramedNone, nil
	case hasTE && hasCL:
		return 0, bad("both Content-Length and Transfer-Encoding")
	case hasTE:
		if resp.ProtoMinor == 0 {
			return 0, bad("Transfer-Encoding in an HTTP/1.0 response")
		}
		if len(te) != 1 || !strings.EqualFold(te[0], "chunked") {
			return 0, &Error{Status: 502, Reason: "unsupported transfer coding"}
		}
		delete(h, "Transfer-Encoding")
		resp.TransferEncoding = []string{"chunked"}
		resp.Trailer = announcedTrailers(h, lim.MaxHeaders)
		if resp.Trailer == nil {
			resp.Trailer = http.Header{}
		}
		resp.Body = &chunkedBody{r: newChunked(br, lim, resp.Trailer)}
		return FramedChunked, nil
	case hasCL && resp.ContentLength == 0:
		resp.Body = http.NoBody
		return FramedNone, nil
	case hasCL:
		resp.Body = &lengthBody{r: br, n: resp.ContentLength}
		return FramedLength, nil
	}
	resp.Close = true
	resp.Body = &eofBody{r: br}
	return FramedClose, nil
}

// announcedTrailers is net/http's Response.Trailer before the body is
// read: the names the Trailer header lists, with nil values; the header
// itself is removed (a proxy announces the trailers it will send). At
// most max names are kept.
func announcedTrailers(h http.Header, max int) http.Header {
	vs, ok := h["Trailer"]
	if !ok {
		return nil
	}
	delete(h, "Trailer")
	t := http.Header{}
	for _, v := range vs {
		for _, name := range strings.Split(v, ",") {
			if name = strings.TrimSpace(name); name != "" && isToken([]byte(name)) && len(t) < max {
				t[canonicalKey([]byte(name))] = nil
			}
		}
	}
	return t
}

// responseClose applies HTTP/1.0 and HTTP/1.1 persistence to a response.
func responseClose(resp *http.Response) bool {
	var close, keep bool
	for _, v := range resp.Header["Connection"] {
		for t := range strings.SplitSeq(v, ",") {
			t = strings.TrimSpace(t)
			close = close || strings.EqualFold(t, "close")
			keep = keep || strings.EqualFold(t, "keep-alive")
		}
	}
	if resp.ProtoMinor == 0 {
		return !keep
	}
	return close
}

// eofBody reads to the end of the connection (a close-delimited body).
type eofBody struct{ r *bufio.Reader }

func (b *eofBody) Read(p []byte) (int, error) { return b.r.Read(p) }
func (b *eofBody) Close() error               { return nil }
