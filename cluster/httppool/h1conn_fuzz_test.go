package httppool

import (
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/sluice-proxy/sluice/codec/http1"
)

// FuzzH1Conn serves arbitrary bytes as an upstream's answers to two GETs
// on one pooled HTTP/1.1 connection: the connection must never panic or
// hang, a failed exchange must leave it unusable (never a second request
// on a connection whose framing is in doubt), and a body is never longer
// than its Content-Length. Seeds: nginx's and Go's captured responses
// (codec/http1/testdata).
func FuzzH1Conn(f *testing.F) {
	files, _ := filepath.Glob("../../codec/http1/testdata/*.resp")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 204 No Content\r\n\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		cli, srv := net.Pipe()
		done := make(chan struct{})
		go func() {
			defer close(done)
			go io.Copy(io.Discard, srv) // the requests
			srv.Write(in)
			srv.Close()
		}()
		c := newH1Conn(cli, http1.Limits{MaxHeaderBytes: 4096, MaxHeaders: 32})
		for i := 0; i < 2; i++ {
			if c.Reserve() != nil {
				break
			}
			req, _ := http.NewRequest("GET", "http://upstream/", nil)
			resp, err := c.RoundTrip(req)
			if err != nil {
				if c.Err() == nil {
					t.Fatalf("failed exchange (%v) left the connection usable", err)
				}
				break
			}
			n, err := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.ContentLength >= 0 && err == nil && n != resp.ContentLength && resp.StatusCode != 101 {
				t.Fatalf("body of %d bytes, Content-Length %d", n, resp.ContentLength)
			}
			if err != nil && c.Err() == nil {
				t.Fatalf("broken body (%v) left the connection usable", err)
			}
		}
		c.Close()
		<-done
	})
}
