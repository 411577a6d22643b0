package http1

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Limits bound what ReadRequest accepts.
type Limits struct {
	// MaxHeaderBytes bounds the request line and header block together, and
	// separately the trailer block (Envoy's max_request_headers_kb).
	MaxHeaderBytes int
	// MaxHeaders bounds the number of header fields (and of trailers).
	MaxHeaders int
}

// DefaultLimits are Envoy's defaults: 60 KiB of headers, 100 fields.
var DefaultLimits = Limits{MaxHeaderBytes: 60 << 10, MaxHeaders: 100}

// ReadRequest reads one request head from br and returns it with Body set
// to a reader of exactly its body (Content-Length, chunked or none). Body
// reads come from br; the request is valid until br is read by anyone else.
// Empty lines before the request line are skipped (RFC 9112 2.2). io.EOF
// means the connection ended cleanly between requests.
func ReadRequest(br *bufio.Reader, lim Limits) (*http.Request, error) {
	if lim.MaxHeaderBytes <= 0 {
		lim.MaxHeaderBytes = DefaultLimits.MaxHeaderBytes
	}
	if lim.MaxHeaders <= 0 {
		lim.MaxHeaders = DefaultLimits.MaxHeaders
	}
	lr := &lineReader{br: br, budget: lim.MaxHeaderBytes}
	var line []byte
	var err error
	for empty := 0; ; empty++ {
		line, err = lr.line()
		if err != nil {
			if err == io.ErrUnexpectedEOF && empty == 0 && lr.budget == lim.MaxHeaderBytes {
				return nil, io.EOF
			}
			return nil, err
		}
		if len(line) > 0 {
			break
		}
		if empty > 8 {
			return nil, bad("too many empty lines before the request line")
		}
	}
	req, err := parseRequestLine(string(line))
	if err != nil {
		return nil, err
	}
	h, err := readFields(lr, lim.MaxHeaders)
	if err != nil {
		return nil, err
	}
	req.Header = h
	if err := frame(req, br, lim); err != nil {
		return nil, err
	}
	return req, nil
}

// parseRequestLine parses "METHOD SP target SP HTTP/1.x".
func parseRequestLine(line string) (*http.Request, error) {
	method, rest, ok1 := strings.Cut(line, " ")
	target, proto, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 || !isToken([]byte(method)) || target == "" || strings.ContainsAny(target, " \t") {
		return nil, bad("malformed request line")
	}
	req := &http.Request{Method: method, RequestURI: target, Proto: proto, ProtoMajor: 1}
	switch proto {
	case "HTTP/1.1":
		req.ProtoMinor = 1
	case "HTTP/1.0":
	default:
		return nil, &Error{Status: 505, Reason: "unsupported protocol version"}
	}
	for i := 0; i < len(target); i++ {
		if c := target[i]; c <= 0x20 || c == 0x7f {
			return nil, bad("control character in the request target")
		}
	}
	var err error
	if method == http.MethodConnect && !strings.HasPrefix(target, "/") {
		req.URL = &url.URL{Host: target}
	} else if method == http.MethodOptions && target == "*" {
		req.URL = &url.URL{Path: "*"}
	} else if req.URL, err = url.ParseRequestURI(target); err != nil {
		return nil, bad("malformed request target")
	}
	return req, nil
}

// readFields reads header (or trailer) lines up to the empty line. The
// values are copied into one buffer that becomes one string, and the
// map's value slices share one array, so a head costs a few allocations
// whatever its number of fields (a string and a slice per field were the
// largest share of the proxy's allocations).
func readFields(lr *lineReader, max int) (http.Header, error) {
	type field struct {
		key      string
		from, to int
	}
	var fieldsArr [24]field
	fields := fieldsArr[:0]
	var bufArr [1024]byte
	buf := bufArr[:0]
	for n := 0; ; n++ {
		line, err := lr.line()
		if err != nil {
			return nil, err
		}
		if len(line) == 0 {
			break
		}
		if n >= max {
			return nil, ErrTooManyHeaders
		}
		if line[0] == ' ' || line[0] == '\t' {
			return nil, ErrObsFold
		}
		i := bytes.IndexByte(line, ':')
		if i <= 0 || !isToken(line[:i]) {
			return nil, bad("malformed header name")
		}
		v := trimOWS(line[i+1:])
		if !validValue(v) {
			return nil, bad("invalid character in a header value")
		}
		from := len(buf)
		buf = append(buf, v...)
		fields = append(fields, field{canonicalKey(line[:i]), from, len(buf)})
	}
	all := string(buf)
	vals := make([]string, len(fields))
	h := make(http.Header, len(fields))
	for i, f := range fields {
		vals[i] = all[f.from:f.to]
		if have, ok := h[f.key]; ok {
			h[f.key] = append(have, vals[i])
		} else {
			h[f.key] = vals[i : i+1 : i+1]
		}
	}
	return h, nil
}

// frame decides the body length from the head (RFC 9112 6.3, with Envoy's
// refusals) and sets Host, Close, ContentLength and Body.
func frame(req *http.Request, br *bufio.Reader, lim Limits) error {
	h := req.Header
	hosts := h["Host"]
	switch {
	case len(hosts) > 1:
		return bad("more than one Host header")
	case len(hosts) == 0 && req.ProtoMinor == 1:
		return bad("missing Host header")
	case len(hosts) == 1:
		req.Host = hosts[0]
	}
	if req.Host == "" && req.URL.Host != "" {
		req.Host = req.URL.Host
	}
	req.Close = shouldClose(req)
	te, hasTE := h["Transfer-Encoding"]
	cl, hasCL := h["Content-Length"]
	switch {
	case hasTE && hasCL:
		return bad("both Content-Length and Transfer-Encoding")
	case hasTE:
		if req.ProtoMinor == 0 {
			return bad("Transfer-Encoding in an HTTP/1.0 request")
		}
		if len(te) != 1 || !strings.EqualFold(te[0], "chunked") {
			return &Error{Status: 501, Reason: "unsupported transfer coding"}
		}
		req.TransferEncoding = []string{"chunked"}
		req.ContentLength = -1
		req.Trailer = make(http.Header)
		req.Body = &chunkedBody{r: newChunked(br, lim, req.Trailer)}
	case hasCL:
		if len(cl) != 1 {
			return bad("more than one Content-Length")
		}
		n, err := parseLength(cl[0])
		if err != nil {
			return err
		}
		req.ContentLength = n
		if n > 0 {
			req.Body = &lengthBody{r: br, n: n}
		} else {
			req.Body = http.NoBody
		}
	default:
		req.Body = http.NoBody
	}
	return nil
}

func parseLength(s string) (int64, error) {
	if s == "" || len(s) > 18 {
		return 0, bad("invalid Content-Length")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, bad("invalid Content-Length")
		}
	}
	n, _ := strconv.ParseInt(s, 10, 64)
	return n, nil
}

// shouldClose applies HTTP/1.0 and HTTP/1.1 persistence rules.
func shouldClose(req *http.Request) bool {
	var close, keep bool
	for _, v := range req.Header["Connection"] {
		for t := range strings.SplitSeq(v, ",") {
			t = strings.TrimSpace(t)
			close = close || strings.EqualFold(t, "close")
			keep = keep || strings.EqualFold(t, "keep-alive")
		}
	}
	if req.ProtoMinor == 0 {
		return !keep
	}
	return close
}
