package mysql

import (
	"io"
	"net"
	"testing"

	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/stats"
)

// discardConn is a server leg that swallows writes and serves one buffer
// forever.
type discardConn struct {
	fakeConn
	reply []byte
}

func (d *discardConn) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardConn) Read(p []byte) (int, error)  { return copy(p, d.reply), nil }

// BenchmarkUpstreamConnSteadyState: the per-read and per-write cost of the
// upstream wrapper once the leg is settled (the command phase).
func BenchmarkUpstreamConnSteadyState(b *testing.B) {
	f, err := New(&Config{StatPrefix: "t", MaxSQLBytes: 4096, UpstreamSSL: UpstreamSSLRequire},
		&filters.Env{Stats: stats.New().Root()})
	if err != nil {
		b.Fatal(err)
	}
	server := &discardConn{reply: make([]byte, 16<<10)}
	u := newUpstreamConn(newConn(f, &filters.Session{}, &fakeConn{}), server, nil)
	u.plain()
	q := query("SELECT c FROM sbtest1 WHERE id = 42")
	buf := make([]byte, 16<<10)
	b.SetBytes(int64(len(q) + len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := u.Write(q); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(u, buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpstreamSSLSession: one whole session over loopback through
// mysql_proxy with upstream_ssl: require (greeting, SSLRequest, TLS 1.3
// handshake, native login, one command) against a scripted server; the
// cost is dominated by the TLS handshake.
func BenchmarkUpstreamSSLSession(b *testing.B) {
	cert := newTestCert(b)
	fl := authFlows[0]
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); playServer(c, cert, true, true, fl.steps, fl.failed) }()
		}
	}()
	p := startProxy(b, &Config{StatPrefix: "t", MaxSQLBytes: 4096, UpstreamSSL: UpstreamSSLRequire}, ln.Addr().String())
	b.ReportAllocs()
	for b.Loop() {
		if err := playClient(p.addr(), false, fl.steps, fl.failed); err != nil {
			b.Fatal(err)
		}
	}
}
