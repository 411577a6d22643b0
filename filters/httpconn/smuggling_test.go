package httpconn_test

import (
	"strings"
	"testing"
	"time"
)

// TestSmugglingVectorsRefused sends each request smuggling vector raw over
// TCP: the proxy answers 4xx, closes the connection, and the upstream sees
// nothing (not the head, not the smuggled request behind it).
func TestSmugglingVectorsRefused(t *testing.T) {
	be := startBackend(t, echoHandler)
	s := startHCM(t, be.addr(), "max_request_headers_kb: 1", "")
	smuggled := "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
	for _, tc := range []struct {
		name, req, status string
	}{
		{"content-length with transfer-encoding", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled, "400"},
		{"transfer-encoding with content-length", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n0\r\n\r\n" + smuggled, "400"},
		{"two content-lengths", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 38\r\n\r\n" + smuggled, "400"},
		{"bare LF", "GET / HTTP/1.1\nHost: x\n\n" + smuggled, "400"},
		{"obs-fold", "GET / HTTP/1.1\r\nHost: x\r\nX-A: b\r\n Transfer-Encoding: chunked\r\n\r\n" + smuggled, "400"},
		{"invalid chunk size", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\nabc\r\n0\r\n\r\n" + smuggled, "400"},
		{"chunk size with 0x", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n" + smuggled, "400"},
		{"NUL in a header", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n" + smuggled, "400"},
		{"space before colon", "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n" + smuggled, "400"},
		{"transfer-encoding not chunked", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n" + smuggled, "501"},
		{"oversized headers", "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 2048) + "\r\n\r\n" + smuggled, "431"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := rawExchange(t, s.Addr("l"), tc.req) // returns once the proxy closed
			if !strings.HasPrefix(out, "HTTP/1.1 "+tc.status+" ") {
				t.Fatalf("got %q, want status %s", out, tc.status)
			}
			if strings.Count(out, "HTTP/1.1 ") != 1 || !strings.Contains(strings.ToLower(out), "connection: close") {
				t.Fatalf("more than one response, or no close: %q", out)
			}
		})
	}
	if n := be.hits.Load(); n != 0 {
		t.Fatalf("the upstream got %d requests", n)
	}
	s.WaitCounter("http.ingress.downstream_cx_protocol_error", 11, 5*time.Second)
}

// TestRefusalSurvivesUnreadBytes: a refused request followed by much more
// data than the proxy reads still gets its 4xx (no reset).
func TestRefusalSurvivesUnreadBytes(t *testing.T) {
	be := startBackend(t, echoHandler)
	s := startHCM(t, be.addr(), "", "")
	out := rawExchange(t, s.Addr("l"), "GET / HTTP/1.1\nHost: x\n\n"+strings.Repeat("GET / HTTP/1.1\r\nHost: x\r\n\r\n", 4000))
	if !strings.HasPrefix(out, "HTTP/1.1 400 ") {
		t.Fatalf("got %q", out)
	}
}
