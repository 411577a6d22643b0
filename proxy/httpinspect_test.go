package proxy

import (
	"bytes"
	"crypto/tls"
	"net"
	"testing"
	"time"
)

func TestDetectHTTP(t *testing.T) {
	tests := []struct {
		in, want string
		done     bool
	}{
		{"GET / HTTP/1.1\r\nHost: x\r\n", "http/1.1", true},
		{"POST /a?b HTTP/1.0\r\n", "http/1.0", true},
		{"GET / HTTP/1.1\n", "http/1.1", true},
		{"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "h2c", true},
		{"PRI * HTTP/2.0\r\n", "", false},
		{"GET / HTT", "", false},
		{"GE", "", false},
		{"*1\r\n$4\r\nPING\r\n", "", true},
		{"\x16\x03\x01\x02\x00", "", true},
		{"GET / HTTP/2.0\r\n", "", true},
		{"GET  / HTTP/1.1\r\n", "", true},
		{"", "", false},
	}
	for _, tt := range tests {
		got, done := detectHTTP([]byte(tt.in))
		if got != tt.want || done != tt.done {
			t.Errorf("%q: got %q, %v; want %q, %v", tt.in, got, done, tt.want, tt.done)
		}
	}
}

// FuzzHTTPInspector: any prefix gets an answer or a request for more
// bytes, never a panic, and a decided answer stays once more bytes come.
func FuzzHTTPInspector(f *testing.F) {
	for _, s := range []string{"GET / HTTP/1.1\r\nHost: a\r\n\r\n", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "*1\r\n$4\r\nPING\r\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for i := range b {
			p, done := detectHTTP(b[:i])
			if done {
				if q, _ := detectHTTP(b); q != p {
					t.Fatalf("%q decided %q, then %q with more bytes", b[:i], p, q)
				}
				return
			}
		}
	})
}

// bytesConn is a net.Conn reading from a byte slice, for feeding the
// inspectors without a socket.
type bytesConn struct {
	net.Conn
	r *bytes.Reader
}

func (c *bytesConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// FuzzTLSInspector: any first bytes give an answer (TLS with its SNI and
// ALPN, or not TLS) or an error, never a panic, and every byte read is
// handed back for replay, in order.
func FuzzTLSInspector(f *testing.F) {
	f.Add([]byte("\x16\x03\x01\x00\x05hello"))
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"))
	for _, sni := range []string{"www.example.com", ""} {
		a, b := net.Pipe()
		go tls.Client(a, &tls.Config{ServerName: sni, NextProtos: []string{"h2"}, InsecureSkipVerify: true}).Handshake()
		buf := make([]byte, 4096)
		b.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, _ := b.Read(buf)
		a.Close()
		b.Close()
		f.Add(buf[:n])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		prefix, isTLS, _, _, err := inspectHello(&bytesConn{r: bytes.NewReader(data)})
		if err == nil && !bytes.HasPrefix(data, prefix) {
			t.Fatalf("replay %q is not a prefix of the input", prefix)
		}
		if isTLS && (len(data) == 0 || data[0] != 0x16) {
			t.Fatalf("TLS without a handshake record")
		}
	})
}
