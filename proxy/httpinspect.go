package proxy

import (
	"bytes"
	"io"

	"github.com/sluice-proxy/sluice/stats"
)

// maxHTTPInspect bounds what http_inspector reads looking for the end of a
// request line (Envoy's inspector reads at most 64 KiB).
const maxHTTPInspect = 64 << 10

// h2Preface is the HTTP/2 client connection preface ("prior knowledge").
var h2Preface = []byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")

// httpInspector is envoy.filters.listener.http_inspector: on a plain-text
// connection it looks at the first bytes and, if they are an HTTP/1.x
// request line or the HTTP/2 preface, sets the application protocol
// ("http/1.0", "http/1.1", "h2c") for chain matching. Nothing is consumed.
// Hand-written: it is a prefix check of a few dozen bytes; net/http's
// parser wants the whole request and would consume it.
type httpInspector struct {
	http10, http11, http2, notFound, readError *stats.Counter
}

func newHTTPInspector(root *stats.Scope) *httpInspector {
	sc := lfScope(root).Sub("http_inspector")
	return &httpInspector{http10: sc.Counter("http10_found"), http11: sc.Counter("http11_found"),
		http2: sc.Counter("http2_found"), notFound: sc.Counter("http_not_found"), readError: sc.Counter("read_error")}
}

func (h *httpInspector) inspect(lc *lfConn) error {
	if lc.facts.transport != "" && lc.facts.transport != "raw_buffer" {
		return nil // TLS: ALPN says what the application protocol is
	}
	for {
		proto, done := detectHTTP(lc.buf)
		if done {
			switch proto {
			case "http/1.0":
				h.http10.Inc()
			case "http/1.1":
				h.http11.Inc()
			case "h2c":
				h.http2.Inc()
			default:
				h.notFound.Inc()
				return nil
			}
			lc.facts.alpn = []string{proto}
			lc.s.ALPN = lc.facts.alpn
			return nil
		}
		if err := lc.readMore(maxHTTPInspect); err != nil {
			if err == io.EOF || err == errTooLong {
				h.notFound.Inc()
				return nil // what there is goes on to the chain
			}
			h.readError.Inc()
			return err
		}
	}
}

// detectHTTP decides from the first bytes whether a connection speaks
// HTTP; done is false while more bytes could change the answer.
func detectHTTP(b []byte) (proto string, done bool) {
	if len(b) == 0 {
		return "", false
	}
	n := min(len(b), len(h2Preface))
	if bytes.Equal(b[:n], h2Preface[:n]) {
		if n == len(h2Preface) {
			return "h2c", true
		}
		return "", false
	}
	// METHOD SP request-target SP HTTP/1.x CRLF; the method is a token.
	sp := bytes.IndexByte(b, ' ')
	for i, c := range b {
		if i == sp {
			break
		}
		if !isTokenChar(c) {
			return "", true
		}
	}
	eol := bytes.IndexByte(b, '\n')
	if eol < 0 {
		return "", false
	}
	line := bytes.TrimSuffix(b[:eol], []byte("\r"))
	fields := bytes.Split(line, []byte(" "))
	if len(fields) != 3 || len(fields[0]) == 0 || len(fields[1]) == 0 {
		return "", true
	}
	switch string(fields[2]) {
	case "HTTP/1.0":
		return "http/1.0", true
	case "HTTP/1.1":
		return "http/1.1", true
	}
	return "", true
}

// isTokenChar is RFC 9110's tchar.
func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return bytes.IndexByte([]byte("!#$%&'*+-.^_`|~"), c) >= 0
}
