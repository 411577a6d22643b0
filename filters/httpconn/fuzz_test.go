package httpconn_test

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzHTTP1Conn writes arbitrary bytes to a running http_connection_manager
// (seeded with curl's requests, codec/http1/testdata, and the smuggling
// vectors) and checks that the proxy answers or closes, and still serves a
// well-formed request afterwards: no input takes the process or the
// listener down.
func FuzzHTTP1Conn(f *testing.F) {
	files, _ := filepath.Glob("../../codec/http1/testdata/*.http")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"))
	f.Add([]byte("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"))
	f.Add([]byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00"))
	be := startBackend(f, echoHandler)
	s := startHCM(f, be.addr(), "request_headers_timeout: 1s\nstream_idle_timeout: 1s", "")
	addr := s.Addr("l")
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		c.Write(in)
		c.(*net.TCPConn).CloseWrite()
		io.Copy(io.Discard, c)
		ok := rawExchange(t, addr, "GET /after HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		if len(ok) < 12 || ok[:12] != "HTTP/1.1 200" {
			t.Fatalf("after %q the proxy answered %q", in, ok)
		}
	})
}
