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
