package tcpproxy_test

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
)

// FuzzPipe sends arbitrary bytes, in arbitrary write sizes, through a real
// sluice (tcp_proxy with an observer tapping both streams, so the event-loop
// callbacks run) to an echo server and back: what returns must be exactly
// what was sent, and the connection must end cleanly after the half-close.
// tcp_proxy decodes nothing; its handshake is the TCP one.
func FuzzPipe(f *testing.F) {
	f.Add([]byte("hello"), uint8(1))
	f.Add(bytes.Repeat([]byte{0, 0xff}, 40000), uint8(200))
	up := startUpstream(f, echo)
	s := sluicetest.StartWith(f, proxyConfig(`"`+up.addr()+`"`, "", "      - test_byte_counter: {}\n"), testFilters())
	addr := s.Addr("l")
	f.Fuzz(func(t *testing.T, data []byte, write uint8) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(30 * time.Second))
		go func() {
			for rest, n := data, int(write)+1; len(rest) > 0; rest = rest[min(n, len(rest)):] {
				if _, err := c.Write(rest[:min(n, len(rest))]); err != nil {
					return
				}
			}
			c.(*net.TCPConn).CloseWrite()
		}()
		got, err := io.ReadAll(c)
		if err != nil {
			t.Fatalf("reading the echo: %v", err)
		}
		if !bytes.Equal(got, data) {
			t.Fatalf("echo of %d bytes came back as %d different bytes", len(data), len(got))
		}
	})
}
