package proxy_test

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/internal/poll"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
)

// tlsListener starts sluice with one TLS-terminating chain in front of an
// echo server, with short listener filter and handshake timeouts.
func tlsListener(t *testing.T) (*sluicetest.Sluice, *tls.Config) {
	t.Helper()
	certFile, keyFile, cert := selfSigned(t, "tls.example.com")
	up := serve(t, echo)
	s := sluicetest.Start(t, fmt.Sprintf(`
listeners:
  - name: tls
    address: 127.0.0.1:0
    listener_filters_timeout: 2s
    listener_filters: [{name: envoy.filters.listener.tls_inspector}]
    filter_chains:
      - transport_socket_connect_timeout: 2s
        tls: {certificate_file: %s, private_key_file: %s}
        filters: [{tcp_proxy: {stat_prefix: tls, cluster: echo}}]
clusters:
  - {name: echo, endpoints: ["%s"]}
`, certFile, keyFile, up))
	pool := x509Pool(t, cert)
	return s, &tls.Config{ServerName: "tls.example.com", RootCAs: pool}
}

// tlsEcho checks that a TLS client gets its line echoed through sluice.
func tlsEcho(t *testing.T, addr string, cfg *tls.Config, conn func(net.Conn) net.Conn) {
	t.Helper()
	raw, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetDeadline(time.Now().Add(10 * time.Second))
	c := raw
	if conn != nil {
		c = conn(raw)
	}
	tc := tls.Client(c, cfg)
	if _, err := io.WriteString(tc, "ping\n"); err != nil {
		t.Fatalf("TLS client: %v", err)
	}
	if l, err := bufio.NewReader(tc).ReadString('\n'); err != nil || l != "ping\n" {
		t.Fatalf("TLS echo: %q, %v", l, err)
	}
}

// closedByPeer waits until the server closes c (a read returns EOF or a
// reset); the read deadline is only a bound on a broken test.
func closedByPeer(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, err := io.Copy(io.Discard, c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the server did not close the connection")
	}
}

// oneByteConn writes one byte per write, so a ClientHello arrives in as
// many TCP segments as it has bytes (TCP_NODELAY is Go's default).
type oneByteConn struct{ net.Conn }

func (c oneByteConn) Write(p []byte) (int, error) {
	for i := range p {
		if _, err := c.Conn.Write(p[i : i+1]); err != nil {
			return i, err
		}
	}
	return len(p), nil
}

// TestHandshakeGarbage: bytes that claim to be a TLS handshake record but
// are garbage close that connection (counted as tls_not_found, then a
// failed handshake), and the listener serves the next client.
func TestHandshakeGarbage(t *testing.T) {
	s, cfg := tlsListener(t)
	for _, garbage := range []string{"\x16\x03\x01\x00\x10garbagegarbage!!", "GET / HTTP/1.1\r\n\r\n", "\x16\x03\x01\xff\xff"} {
		c, err := net.Dial("tcp", s.Addr("tls"))
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, garbage)
		closedByPeer(t, c)
		c.Close()
	}
	s.WaitCounter("tls_inspector.tls_not_found", 2, 10*time.Second)
	tlsEcho(t, s.Addr("tls"), cfg, nil)
}

// TestHandshakeOneByteWrites: a ClientHello split into 1-byte writes is
// reassembled by the inspector and the handshake completes.
func TestHandshakeOneByteWrites(t *testing.T) {
	s, cfg := tlsListener(t)
	tlsEcho(t, s.Addr("tls"), cfg, func(c net.Conn) net.Conn { return oneByteConn{c} })
	if n := s.Counter("tls_inspector.tls_found"); n != 1 {
		t.Fatalf("tls_found = %d", n)
	}
}

// TestHandshakeStopsHalfway: a client that sends its ClientHello and then
// nothing is closed by transport_socket_connect_timeout, counted.
func TestHandshakeStopsHalfway(t *testing.T) {
	s, cfg := tlsListener(t)
	c, err := net.Dial("tcp", s.Addr("tls"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write(clientHello(t, "tls.example.com"))
	closedByPeer(t, c)
	s.WaitCounter("listener.127.0.0.1_"+port(s.Addr("tls"))+".downstream_cx_transport_socket_connect_timeout", 1, 10*time.Second)
	tlsEcho(t, s.Addr("tls"), cfg, nil)
}

// TestHandshakeThousandStalled: 1,000 connections that send nothing, or
// half a ClientHello, never finish; the listener serves a real client
// meanwhile, and listener_filters_timeout closes every stalled one
// (downstream_pre_cx_timeout), after which none is left open.
func TestHandshakeThousandStalled(t *testing.T) {
	s, cfg := tlsListener(t)
	hello := clientHello(t, "tls.example.com")
	stalled := make([]net.Conn, 0, 1000)
	defer func() {
		for _, c := range stalled {
			c.Close()
		}
	}()
	for i := range 1000 {
		c, err := net.Dial("tcp", s.Addr("tls"))
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		if i%2 == 1 {
			c.Write(hello[:len(hello)/2])
		}
		stalled = append(stalled, c)
	}
	tlsEcho(t, s.Addr("tls"), cfg, nil) // served while 1,000 are stalled
	st := "listener.127.0.0.1_" + port(s.Addr("tls"))
	s.WaitCounter(st+".downstream_pre_cx_timeout", 1000, 60*time.Second)
	poll.Eventually(t, 30*time.Second, func() bool { return s.Gauge(st+".downstream_cx_active") == 0 },
		"no connection left open", func() any { return s.Gauge(st + ".downstream_cx_active") })
	for _, c := range stalled[:10] {
		closedByPeer(t, c)
	}
}

func port(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

// x509Pool trusts cert's leaf.
func x509Pool(t *testing.T, cert tls.Certificate) *x509.CertPool {
	t.Helper()
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	p := x509.NewCertPool()
	p.AddCert(leaf)
	return p
}
