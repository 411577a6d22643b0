package http1

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestReadResponse(t *testing.T) {
	for _, tc := range []struct {
		name, method, in string
		status           int
		framing          ResponseFraming
		body, trailer    string
		close            bool
		bad              bool
	}{
		{name: "length", in: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloNEXT", status: 200, framing: FramedLength, body: "hello"},
		{name: "no reason", in: "HTTP/1.1 204\r\n\r\nNEXT", status: 204, framing: FramedNone},
		{name: "chunked trailers", in: "HTTP/1.1 200 OK\r\nTrailer: X-T\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;e=1\r\nde\r\n0\r\nX-T: v\r\n\r\nNEXT", status: 200, framing: FramedChunked, body: "abcde", trailer: "v"},
		{name: "close delimited", in: "HTTP/1.1 200 OK\r\n\r\nuntil the end", status: 200, framing: FramedClose, body: "until the end", close: true},
		{name: "http10 keep-alive", in: "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nokNEXT", status: 200, framing: FramedLength, body: "ok"},
		{name: "http10 closes", in: "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", status: 200, framing: FramedLength, body: "ok", close: true},
		{name: "connection close", in: "HTTP/1.1 500 Oops\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx", status: 500, framing: FramedLength, body: "x", close: true},
		{name: "head", method: "HEAD", in: "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\nNEXT", status: 200, framing: FramedNone},
		{name: "304 with length", in: "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\nNEXT", status: 304, framing: FramedNone},
		{name: "1xx skipped", in: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\nNEXT", status: 201, framing: FramedNone},
		{name: "101 is final", in: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\nframes", status: 101, framing: FramedClose, body: "frames", close: true},
		{name: "equal lengths", in: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nokNEXT", status: 200, framing: FramedLength, body: "ok"},
		{name: "cl and te", in: "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", bad: true},
		{name: "differing lengths", in: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc", bad: true},
		{name: "gzip coding", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", bad: true},
		{name: "te on 1.0", in: "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", bad: true},
		{name: "bare lf", in: "HTTP/1.1 200 OK\nContent-Length: 0\n\n", bad: true},
		{name: "obs fold", in: "HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n", bad: true},
		{name: "nul in value", in: "HTTP/1.1 200 OK\r\nX: a\x00\r\nContent-Length: 0\r\n\r\n", bad: true},
		{name: "bad code", in: "HTTP/1.1 2x0 OK\r\n\r\n", bad: true},
		{name: "code below 100", in: "HTTP/1.1 099 Low\r\n\r\n", bad: true},
		{name: "http2 version", in: "HTTP/2.0 200 OK\r\n\r\n", bad: true},
		{name: "no space", in: "HTTP/1.1 200OK\r\n\r\n", bad: true},
		{name: "bad chunk", in: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", bad: true},
		{name: "short length body", in: "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort", bad: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = "GET"
			}
			br := bufio.NewReader(strings.NewReader(tc.in))
			resp, framing, err := ReadResponse(br, method, Limits{}, nil)
			var body []byte
			if err == nil {
				body, err = io.ReadAll(resp.Body)
			}
			if tc.bad {
				if err == nil {
					t.Fatalf("accepted: status %d body %q", resp.StatusCode, body)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status || framing != tc.framing || string(body) != tc.body || resp.Close != tc.close {
				t.Fatalf("got status %d framing %d body %q close %v", resp.StatusCode, framing, body, resp.Close)
			}
			if got := resp.Trailer.Get("X-T"); got != tc.trailer {
				t.Fatalf("trailer %q, want %q", got, tc.trailer)
			}
			if !tc.close {
				rest, _ := io.ReadAll(br)
				if string(rest) != "NEXT" {
					t.Fatalf("left %q on the connection, want NEXT", rest)
				}
			}
		})
	}
}

func TestReadResponseInformational(t *testing.T) {
	in := "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
	var codes []int
	var link string
	resp, _, err := ReadResponse(bufio.NewReader(strings.NewReader(in)), "GET", Limits{}, func(code int, h http.Header) {
		codes = append(codes, code)
		link = h.Get("Link")
	})
	if err != nil || resp.StatusCode != 200 {
		t.Fatal(resp, err)
	}
	if len(codes) != 1 || codes[0] != 103 || link != "</style.css>; rel=preload" {
		t.Fatalf("1xx seen: %v %q", codes, link)
	}
	many := strings.Repeat("HTTP/1.1 100 Continue\r\n\r\n", maxInformational+2) + "HTTP/1.1 200 OK\r\n\r\n"
	if _, _, err := ReadResponse(bufio.NewReader(strings.NewReader(many)), "GET", Limits{}, nil); err == nil {
		t.Fatal("endless 1xx accepted")
	}
}

func TestReadResponseLimits(t *testing.T) {
	head := "HTTP/1.1 200 OK\r\nX-Big: " + strings.Repeat("a", 5000) + "\r\nContent-Length: 0\r\n\r\n"
	_, _, err := ReadResponse(bufio.NewReader(strings.NewReader(head)), "GET", Limits{MaxHeaderBytes: 4096}, nil)
	if e, ok := AsError(err); !ok || e.Status != 431 {
		t.Fatalf("oversized head: %v", err)
	}
	many := "HTTP/1.1 200 OK\r\n" + strings.Repeat("X: y\r\n", 10) + "\r\n"
	_, _, err = ReadResponse(bufio.NewReader(strings.NewReader(many)), "GET", Limits{MaxHeaders: 5}, nil)
	if e, ok := AsError(err); !ok || e.Status != 431 {
		t.Fatalf("too many fields: %v", err)
	}
	if _, _, err := ReadResponse(bufio.NewReader(strings.NewReader("")), "GET", Limits{}, nil); err != io.EOF {
		t.Fatalf("closed connection: %v, want io.EOF", err)
	}
	if _, _, err := ReadResponse(bufio.NewReader(strings.NewReader("HTTP/1.1 200 OK\r\nA: b")), "GET", Limits{}, nil); err != io.ErrUnexpectedEOF {
		t.Fatalf("cut head: %v, want io.ErrUnexpectedEOF", err)
	}
}

// BenchmarkReadResponse reads nginx's answer to a small GET (as captured
// in testdata), body included.
func BenchmarkReadResponse(b *testing.B) {
	const in = "HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Mon, 07 Dec 2026 21:57:02 GMT\r\n" +
		"Content-Type: text/plain\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello"
	r := strings.NewReader(in)
	br := bufio.NewReader(r)
	buf := make([]byte, 64)
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(in)
		br.Reset(r)
		resp, _, err := ReadResponse(br, "GET", Limits{}, nil)
		if err != nil {
			b.Fatal(err)
		}
		if n, _ := io.ReadFull(resp.Body, buf[:5]); n != 5 {
			b.Fatal("short body")
		}
	}
}
