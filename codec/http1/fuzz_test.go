package http1

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// FuzzReadRequest reads arbitrary bytes as a pipeline of requests: the reader
// must never panic, never read a body past its framing, and keep within its
// limits. Seeds are real requests captured from curl (testdata/*.http).
func FuzzReadRequest(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.http")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nA: b\r\n\r\n"))
	lim := Limits{MaxHeaderBytes: 4096, MaxHeaders: 32}
	f.Fuzz(func(t *testing.T, in []byte) {
		br := bufio.NewReaderSize(bytes.NewReader(in), 512)
		for i := 0; i < 8; i++ {
			req, err := ReadRequest(br, lim)
			if err != nil {
				return
			}
			if len(req.Header) > lim.MaxHeaders {
				t.Fatalf("%d headers over the limit", len(req.Header))
			}
			n, err := io.Copy(io.Discard, req.Body)
			if err != nil {
				return
			}
			if req.ContentLength >= 0 && n != req.ContentLength {
				t.Fatalf("body of %d bytes, Content-Length %d", n, req.ContentLength)
			}
			if len(req.Trailer) > lim.MaxHeaders {
				t.Fatalf("%d trailers over the limit", len(req.Trailer))
			}
		}
	})
}

// FuzzReadResponse reads arbitrary bytes as a keep-alive stream of
// responses: never a panic, never a body past its framing, limits kept.
// Seeds are real response streams captured from nginx 1.22 and Go's
// net/http server (testdata/*.resp, written by TestReadResponseNginx and
// TestReadResponseGo with SLUICE_SAVE_SEEDS=1).
func FuzzReadResponse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.resp")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
	}
	f.Add([]byte("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: A\r\n\r\n3\r\nabc\r\n0\r\nA: b\r\n\r\n"), false)
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"), true)
	lim := Limits{MaxHeaderBytes: 4096, MaxHeaders: 32}
	f.Fuzz(func(t *testing.T, in []byte, head bool) {
		br := bufio.NewReaderSize(bytes.NewReader(in), 512)
		method := "GET"
		if head {
			method = "HEAD"
		}
		for i := 0; i < 8; i++ {
			resp, framing, err := ReadResponse(br, method, lim, nil)
			if err != nil {
				return
			}
			if len(resp.Header) > lim.MaxHeaders {
				t.Fatalf("%d headers over the limit", len(resp.Header))
			}
			n, err := io.Copy(io.Discard, resp.Body)
			if err != nil {
				return
			}
			switch framing {
			case FramedLength:
				if n != resp.ContentLength {
					t.Fatalf("body of %d bytes, Content-Length %d", n, resp.ContentLength)
				}
			case FramedNone:
				if n != 0 {
					t.Fatalf("%d body bytes for a response without one", n)
				}
			case FramedClose:
				return
			}
			if len(resp.Trailer) > 2*lim.MaxHeaders {
				t.Fatalf("%d trailers over the limit", len(resp.Trailer))
			}
			if resp.Close {
				return
			}
		}
	})
}
