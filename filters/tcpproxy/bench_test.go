package tcpproxy_test

import (
	"io"
	"net"
	"testing"
)

// BenchmarkConnection is one short proxied connection per op, the shape of
// bench/tcp.sh's connection rate: connect, one byte each way, close. The
// allocations per op include the client's and the upstream's (the same in
// every run), so compare them between builds, not against zero.
func BenchmarkConnection(b *testing.B) {
	for _, mode := range []struct {
		name  string
		loops int
	}{{"loops", -1}, {"goroutines", 0}} {
		b.Run(mode.name, func(b *testing.B) {
			up := startUpstream(b, func(c *net.TCPConn) {
				var one [1]byte
				if _, err := io.ReadFull(c, one[:]); err == nil {
					c.Write(one[:])
				}
			})
			m := &ioMode{loops: mode.loops}
			s := m.start(b, proxyConfig(`"`+up.addr()+`"`, "", ""))
			addr := s.Addr("l")
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					b.Fatal(err)
				}
				var one [1]byte
				if _, err := c.Write([]byte{'E'}); err != nil {
					b.Fatal(err)
				}
				if _, err := io.ReadFull(c, one[:]); err != nil {
					b.Fatal(err)
				}
				c.Close()
			}
		})
	}
}
