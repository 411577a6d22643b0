package httpconn_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
)

func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s not installed (apt-get install curl nghttp2-client; .ci/deps.sh lists them)", name)
	}
	return p
}

// TestH2CPriorKnowledge runs HTTP/2 without TLS from Go's client and from
// curl --http2-prior-knowledge, and many streams from h2load.
func TestH2CPriorKnowledge(t *testing.T) {
	be := startBackend(t, echoHandler)
	s := startHCM(t, be.addr(), "", "")
	tr := &http2.Transport{AllowHTTP: true, DialTLSContext: nil}
	tr.DialTLS = func(network, addr string, _ *tls.Config) (net.Conn, error) { return net.Dial(network, addr) }
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Post("http://"+s.Addr("l")+"/h2", "text/plain", strings.NewReader("body"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.ProtoMajor != 2 || string(b) != "POST /h2 body" {
		t.Fatalf("got %s %q", resp.Proto, b)
	}
	out, err := exec.Command(needTool(t, "curl"), "-sS", "--http2-prior-knowledge", "-w", " %{http_version}",
		"http://"+s.Addr("l")+"/curl").CombinedOutput()
	if err != nil || string(out) != "GET /curl  2" {
		t.Fatalf("curl: %v %q", err, out)
	}
	out, err = exec.Command(needTool(t, "h2load"), "-n", "200", "-c", "2", "-m", "20",
		"http://"+s.Addr("l")+"/load").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "200 succeeded, 0 failed") {
		t.Fatalf("h2load: %v\n%s", err, out)
	}
	s.WaitCounter("http.ingress.downstream_rq_http2_total", 202, 5*time.Second)
	if s.Counter("http.ingress.downstream_cx_rx_bytes_total") == 0 || s.Counter("http.ingress.downstream_cx_tx_bytes_total") == 0 {
		t.Error("HTTP/2 bytes not counted")
	}
	if got := s.Counter("http.ingress.downstream_cx_http2_total"); got != 4 {
		t.Errorf("downstream_cx_http2_total %d, want 4", got)
	}
}

// TestH2OverTLS negotiates h2 by ALPN on a TLS-terminating chain (curl
// --http2) and falls back to HTTP/1.1 for a client that offers only it.
func TestH2OverTLS(t *testing.T) {
	be := startBackend(t, echoHandler)
	dir := t.TempDir()
	cert, key := writeCert(t, dir)
	yaml := fmt.Sprintf(`
listeners:
  - name: l
    address: 127.0.0.1:0
    filter_chains:
      - tls: {certificate_file: %s, private_key_file: %s, alpn: [h2, http/1.1]}
        filters:
          - http_connection_manager:
              stat_prefix: ingress
              route_config: {virtual_hosts: [{name: all, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: c}}]}]}
clusters:
  - name: c
    connect_timeout: 1s
    endpoints: ["%s"]
`, cert, key, be.addr())
	s := sluicetest.Start(t, yaml)
	for _, v := range []struct{ flag, want string }{{"--http2", "2"}, {"--http1.1", "1.1"}} {
		out, err := exec.Command(needTool(t, "curl"), "-sSk", v.flag, "-w", " %{http_version}",
			"https://"+s.Addr("l")+"/tls").CombinedOutput()
		if err != nil || string(out) != "GET /tls  "+v.want {
			t.Fatalf("curl %s: %v %q", v.flag, err, out)
		}
	}
	out, err := exec.Command(needTool(t, "nghttp"), "-v", "https://"+s.Addr("l")+"/nghttp").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "GET /nghttp") {
		t.Fatalf("nghttp: %v\n%s", err, out)
	}
	s.WaitCounter("http.ingress.downstream_cx_ssl_total", 3, 5*time.Second)
}

// writeCert writes a self-signed certificate for 127.0.0.1.
func writeCert(t *testing.T, dir string) (string, string) {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sluice-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(k)
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return cert, key
}
