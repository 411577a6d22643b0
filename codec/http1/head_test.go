package http1

import (
	"bufio"
	"io"
	"strings"
	"testing"
)

func read(s string, lim Limits) (string, string, error) {
	req, err := ReadRequest(bufio.NewReader(strings.NewReader(s)), lim)
	if err != nil {
		return "", "", err
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return "", "", err
	}
	return req.Method + " " + req.URL.Path + " " + req.Host, string(body) + "|" + req.Trailer.Get("X-T"), nil
}

func TestReadRequest(t *testing.T) {
	for _, tc := range []struct {
		name, in, head, body string
		status               int // 0: accepted
	}{
		{"get", "GET /a HTTP/1.1\r\nHost: h\r\n\r\n", "GET /a h", "|", 0},
		{"leading crlf", "\r\nGET /a HTTP/1.1\r\nHost: h\r\n\r\n", "GET /a h", "|", 0},
		{"length", "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello", "POST /p h", "hello|", 0},
		{"chunked", "POST /p HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n1\r\n!\r\n0\r\nX-T: v\r\n\r\n", "POST /p h", "hello!|v", 0},
		{"http10 no host", "GET / HTTP/1.0\r\n\r\n", "GET / ", "|", 0},
		{"cl and te", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "", "", 400},
		{"two cl", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", "", "", 400},
		{"cl list", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 3\r\n\r\nabc", "", "", 400},
		{"bare lf", "GET / HTTP/1.1\nHost: h\n\n", "", "", 400},
		{"bare lf in header", "GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n", "", "", 400},
		{"obs fold", "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", "", "", 400},
		{"nul", "GET / HTTP/1.1\r\nHost: h\r\nX: a\x00b\r\n\r\n", "", "", 400},
		{"space before colon", "GET / HTTP/1.1\r\nHost : h\r\n\r\n", "", "", 400},
		{"bad chunk size", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", "", "", 400},
		{"chunk size overflow", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n", "", "", 400},
		{"chunk bare lf", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n", "", "", 400},
		{"chunk no crlf after data", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloX\r\n0\r\n\r\n", "", "", 400},
		{"te gzip", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "", "", 501},
		{"te http10", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "", "", 400},
		{"no host", "GET / HTTP/1.1\r\n\r\n", "", "", 400},
		{"two hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "", "", 400},
		{"bad version", "GET / HTTP/1.2\r\nHost: h\r\n\r\n", "", "", 505},
		{"bad cl", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +3\r\n\r\nabc", "", "", 400},
		{"huge header", "GET / HTTP/1.1\r\nHost: h\r\nX: " + strings.Repeat("a", 2000) + "\r\n\r\n", "", "", 431},
		{"too many", "GET / HTTP/1.1\r\nHost: h\r\n" + strings.Repeat("X: y\r\n", 10) + "\r\n", "", "", 431},
	} {
		t.Run(tc.name, func(t *testing.T) {
			head, body, err := read(tc.in, Limits{MaxHeaderBytes: 1024, MaxHeaders: 8})
			if tc.status == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if head != tc.head || body != tc.body {
					t.Fatalf("got %q %q, want %q %q", head, body, tc.head, tc.body)
				}
				return
			}
			e, ok := AsError(err)
			if !ok || e.Status != tc.status {
				t.Fatalf("got %v, want status %d", err, tc.status)
			}
		})
	}
}

func TestReadRequestEOF(t *testing.T) {
	if _, err := ReadRequest(bufio.NewReader(strings.NewReader("")), DefaultLimits); err != io.EOF {
		t.Fatalf("got %v, want io.EOF", err)
	}
	_, err := ReadRequest(bufio.NewReader(strings.NewReader("GET / HT")), DefaultLimits)
	if err != io.ErrUnexpectedEOF {
		t.Fatalf("got %v, want unexpected EOF", err)
	}
}

// TestHeadLimitBoundary checks the exact size limit: a head of exactly
// MaxHeaderBytes is accepted, one byte more is refused.
func TestHeadLimitBoundary(t *testing.T) {
	base := "GET / HTTP/1.1\r\nHost: h\r\nX: \r\n\r\n"
	lim := Limits{MaxHeaderBytes: 200, MaxHeaders: 10}
	pad := strings.Repeat("a", 200-len(base))
	ok := strings.Replace(base, "X: ", "X: "+pad, 1)
	if _, _, err := read(ok, lim); err != nil {
		t.Fatalf("head of exactly the limit refused: %v", err)
	}
	over := strings.Replace(base, "X: ", "X: a"+pad, 1)
	if _, _, err := read(over, lim); err != ErrHeadTooLarge {
		t.Fatalf("got %v, want ErrHeadTooLarge", err)
	}
}

// BenchmarkReadRequest reads curl's GET head and a chunked POST.
func BenchmarkReadRequest(b *testing.B) {
	get := "GET /path?q=1 HTTP/1.1\r\nHost: 127.0.0.1:18777\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\nX-A: b\r\n\r\n"
	post := "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
	for _, in := range []struct{ name, req string }{{"get", get}, {"chunked", post}} {
		b.Run(in.name, func(b *testing.B) {
			r := strings.NewReader(in.req)
			br := bufio.NewReader(r)
			b.ReportAllocs()
			b.SetBytes(int64(len(in.req)))
			for i := 0; i < b.N; i++ {
				r.Reset(in.req)
				br.Reset(r)
				req, err := ReadRequest(br, DefaultLimits)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, req.Body)
			}
		})
	}
}
