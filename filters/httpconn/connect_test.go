package httpconn_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// connectRoutes tunnels CONNECT requests to cluster c.
const connectRoutes = `[{match: {connect_matcher: {}}, route: {cluster: c, upgrade_configs: [{upgrade_type: CONNECT}]}}]`

// TestConnectCurlProxyTunnelTLS: curl --proxytunnel opens a CONNECT tunnel
// through sluice and speaks TLS end to end with a real HTTPS server, whose
// certificate curl verifies (sluice sees only ciphertext).
func TestConnectCurlProxyTunnelTLS(t *testing.T) {
	be := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("secret " + r.URL.Path + " " + r.Proto))
	}))
	defer be.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: be.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	target := strings.TrimPrefix(be.URL, "https://")
	s := startHCM(t, target, "", connectRoutes)
	for i := 0; i < 2; i++ {
		out, err := exec.Command("curl", "-sS", "--proxytunnel", "--proxy", "http://"+s.Addr("l"),
			"--cacert", ca, "https://"+target+"/tunnelled").CombinedOutput()
		if err != nil || string(out) != "secret /tunnelled HTTP/1.1" {
			t.Fatalf("curl: %v: %q", err, out)
		}
	}
	s.WaitCounter("http.ingress.downstream_rq_2xx", 2, 5*time.Second)
	s.WaitCounter("http.ingress.downstream_cx_upgrades_total", 2, 5*time.Second)
	s.WaitGauge("http.ingress.downstream_cx_upgrades_active", 0, 5*time.Second)
	if got := s.Counter("cluster.c.upstream_cx_total"); got != 2 {
		t.Fatalf("upstream_cx_total %d, want 2", got)
	}
}

// TestConnectRefused: CONNECT to a route without the CONNECT upgrade gets
// 403, and CONNECT with no connect_matcher route gets 404 (a prefix route
// does not match CONNECT); plain requests still route by path.
func TestConnectRefused(t *testing.T) {
	be := startBackend(t, echoHandler)
	s := startHCM(t, be.addr(), "", `[{match: {connect_matcher: {}}, route: {cluster: c}}, {match: {prefix: "/"}, route: {cluster: c}}]`)
	got := rawExchange(t, s.Addr("l"), "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nConnection: close\r\n\r\n")
	if !strings.HasPrefix(got, "HTTP/1.1 403 ") {
		t.Fatalf("got %q, want 403", got)
	}
	s2 := startHCM(t, be.addr(), "", "")
	got = rawExchange(t, s2.Addr("l"), "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\nConnection: close\r\n\r\n")
	if !strings.HasPrefix(got, "HTTP/1.1 404 ") {
		t.Fatalf("got %q, want 404 (no route)", got)
	}
	resp, err := http.Get("http://" + s.Addr("l") + "/x")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || be.hits.Load() != 1 {
		t.Fatalf("plain request: %d, hits %d", resp.StatusCode, be.hits.Load())
	}
}

// TestConnectUnreachable: a CONNECT whose upstream refuses the connection
// gets Envoy's 503 with the UF flag, and no tunnel.
func TestConnectUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()
	s := startHCM(t, dead, "", connectRoutes)
	got := rawExchange(t, s.Addr("l"), "CONNECT "+dead+" HTTP/1.1\r\nHost: "+dead+"\r\nConnection: close\r\n\r\n")
	if !strings.HasPrefix(got, "HTTP/1.1 503 ") || !strings.Contains(got, "connection failure") {
		t.Fatalf("got %q, want 503 connection failure", got)
	}
	if s.Counter("http.ingress.downstream_cx_upgrades_total") != 0 {
		t.Fatal("a failed CONNECT counted as an upgrade")
	}
}

// TestConnectHTTP2: a classic HTTP/2 CONNECT (RFC 9113 8.5, h2c with prior
// knowledge, x/net/http2's client) tunnels a raw HTTP/1.1 exchange to a
// real net/http server; the stream's data frames carry the bytes.
func TestConnectHTTP2(t *testing.T) {
	be := startBackend(t, echoHandler)
	s := startHCM(t, be.addr(), "", connectRoutes)
	tr := &http2.Transport{AllowHTTP: true, DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	defer tr.CloseIdleConnections()
	pr, pw := io.Pipe()
	req := &http.Request{Method: http.MethodConnect, URL: &url.URL{Scheme: "http", Host: s.Addr("l")},
		Host: "origin.test:80", Header: http.Header{}, Body: pr}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	go io.WriteString(pw, "GET /through-h2 HTTP/1.1\r\nHost: origin.test\r\nConnection: close\r\n\r\n")
	r, err := http.ReadResponse(bufio.NewReader(resp.Body), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(r.Body)
	if string(body) != "GET /through-h2 " {
		t.Fatalf("tunnelled response %q", body)
	}
	pw.Close()
	s.WaitCounter("http.ingress.downstream_rq_http2_total", 1, 5*time.Second)
	s.WaitGauge("http.ingress.downstream_cx_upgrades_active", 0, 5*time.Second)
}

// TestConnectIdleTimeout: a tunnel that carries no bytes for the route's
// idle_timeout is closed (Envoy's rule for upgraded streams), after the
// bytes that did flow went through.
func TestConnectIdleTimeout(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() { // an echo server that never closes on its own
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.Copy(c, c)
	}()
	s := startHCM(t, l.Addr().String(), "",
		`[{match: {connect_matcher: {}}, route: {cluster: c, idle_timeout: 0.3s, upgrade_configs: [{upgrade_type: CONNECT}]}}]`)
	c, err := net.Dial("tcp", s.Addr("l"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "CONNECT echo:1 HTTP/1.1\r\nHost: echo:1\r\n\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("CONNECT: %v %v", resp, err)
	}
	io.WriteString(c, "ping")
	buf := make([]byte, 4)
	if _, err := io.ReadFull(br, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("echo %q %v", buf, err)
	}
	// Idle now: the tunnel must end, seen as EOF on the client side.
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := br.Read(buf); err != io.EOF {
		t.Fatalf("read %d, %v; want EOF after the idle timeout", n, err)
	}
	s.WaitGauge("http.ingress.downstream_cx_upgrades_active", 0, 5*time.Second)
}
