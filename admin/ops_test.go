package admin_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/admin"
	"github.com/sluice-proxy/sluice/internal/poll"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
)

func do(t *testing.T, method, url string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestMutatingEndpointsArePostOnly: Envoy refuses GET on the endpoints that
// change state.
func TestMutatingEndpointsArePostOnly(t *testing.T) {
	s := startWithTraffic(t)
	for _, p := range []string{"/drain_listeners", "/reset_counters", "/quitquitquit", "/healthcheck/fail"} {
		if code, _ := s.AdminGet(p); code != http.StatusMethodNotAllowed {
			t.Errorf("GET %s: %d, want 405", p, code)
		}
	}
}

func TestResetCounters(t *testing.T) {
	s := startWithTraffic(t)
	if s.Counter("cluster.pg.upstream_cx_total") != 1 {
		t.Fatal("no traffic counted")
	}
	if code, _ := s.AdminPost("/reset_counters"); code != 200 {
		t.Fatalf("status %d", code)
	}
	if n := s.Counter("cluster.pg.upstream_cx_total"); n != 0 {
		t.Fatalf("upstream_cx_total = %d after reset", n)
	}
}

// TestDrainListeners: new connections are refused, open ones carry on, and
// /ready answers DRAINING.
func TestDrainListeners(t *testing.T) {
	s := startWithTraffic(t)
	open, err := net.Dial("tcp", s.Addr("pg"))
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	if code, _ := s.AdminPost("/drain_listeners"); code != 200 {
		t.Fatalf("status %d", code)
	}
	poll.Eventually(t, 5*time.Second, func() bool {
		c, err := net.Dial("tcp", s.Addr("pg"))
		if err == nil {
			c.Close()
		}
		return err != nil
	}, "the listener still accepts")
	if code, body := s.AdminGet("/ready"); code != 503 || !strings.Contains(body, "DRAINING") {
		t.Fatalf("/ready %d %q", code, body)
	}
	open.Write([]byte("still"))
	buf := make([]byte, 5)
	open.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(open, buf); err != nil || string(buf) != "still" {
		t.Fatalf("the open connection: %q %v", buf, err)
	}
}

func TestMemoryRuntimeHelp(t *testing.T) {
	s := startWithTraffic(t)
	_, body := s.AdminGet("/memory")
	var mem map[string]string
	if err := json.Unmarshal([]byte(body), &mem); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	for _, k := range []string{"allocated", "heap_size", "pageheap_unmapped", "pageheap_free", "total_thread_cache", "total_physical_bytes"} {
		if mem[k] == "" || mem[k] == "0" && k == "allocated" {
			t.Errorf("/memory %s = %q", k, mem[k])
		}
	}
	if _, body := s.AdminGet("/runtime"); strings.Join(strings.Fields(body), "") != `{"entries":{},"layers":[]}` {
		t.Errorf("/runtime %s", body)
	}
	if _, body := s.AdminGet("/help"); !strings.Contains(body, "/quitquitquit") || !strings.Contains(body, "/logging") {
		t.Errorf("/help %s", body)
	}
}

func TestHistogramBuckets(t *testing.T) {
	s := startWithTraffic(t)
	_, body := s.AdminGet("/stats?filter=cluster.pg.upstream_cx_length_ms&histogram_buckets=cumulative")
	if !strings.HasPrefix(body, "cluster.pg.upstream_cx_length_ms: B0.5(") || !strings.Contains(body, " B3.6e+06(1,1)\n") {
		t.Fatalf("cumulative buckets: %q", body)
	}
	if code, _ := s.AdminGet("/stats?histogram_buckets=detailed"); code != 400 {
		t.Fatalf("detailed: %d, want 400", code)
	}
}

// TestLoggingAndQuit drives an admin server with the process hooks.
func TestLoggingAndQuit(t *testing.T) {
	s := startWithTraffic(t)
	lv := new(slog.LevelVar)
	var quits atomic.Int32
	a, err := admin.Start("127.0.0.1:0", s.Server, slog.New(slog.NewTextHandler(io.Discard, nil)),
		admin.WithLogLevel(lv), admin.WithQuit(func() { quits.Add(1) }))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	base := "http://" + a.Addr()
	if _, body := do(t, "GET", base+"/logging"); !strings.Contains(body, "sluice: info") {
		t.Fatalf("/logging %q", body)
	}
	if code, body := do(t, "POST", base+"/logging?level=debug"); code != 200 || !strings.Contains(body, "sluice: debug") {
		t.Fatalf("POST /logging?level=debug: %d %q", code, body)
	}
	if lv.Level() != slog.LevelDebug {
		t.Fatalf("level %v after POST", lv.Level())
	}
	if code, _ := do(t, "POST", base+"/logging?level=loud"); code != 400 {
		t.Fatalf("bad level: %d", code)
	}
	if code, _ := do(t, "POST", base+"/quitquitquit"); code != 200 {
		t.Fatalf("quitquitquit: %d", code)
	}
	poll.Eventually(t, 5*time.Second, func() bool { return quits.Load() == 1 }, "quit hook not called")
}

// TestCerts lists the certificate of a TLS filter chain.
func TestCerts(t *testing.T) {
	dir := t.TempDir()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(0xbeef), Subject: pkix.Name{CommonName: "db"},
		DNSNames: []string{"db.example"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(48 * time.Hour)}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	s := sluicetest.Start(t, fmt.Sprintf(`
listeners:
  - name: tls
    address: 127.0.0.1:0
    filter_chains:
      - tls: {certificate_file: %s, private_key_file: %s}
        filters: [{tcp_proxy: {stat_prefix: t, cluster: c}}]
clusters:
  - {name: c, endpoints: ["127.0.0.1:1"]}
`, certFile, keyFile))
	_, body := s.AdminGet("/certs")
	var out struct {
		Certificates []struct {
			CertChain []struct {
				Path                string              `json:"path"`
				SerialNumber        string              `json:"serial_number"`
				SubjectAltNames     []map[string]string `json:"subject_alt_names"`
				DaysUntilExpiration string              `json:"days_until_expiration"`
			} `json:"cert_chain"`
		} `json:"certificates"`
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil || len(out.Certificates) != 1 || len(out.Certificates[0].CertChain) != 1 {
		t.Fatalf("/certs %s (%v)", body, err)
	}
	c := out.Certificates[0].CertChain[0]
	if c.Path != certFile || c.SerialNumber != "beef" || c.SubjectAltNames[0]["dns"] != "db.example" || c.DaysUntilExpiration != "1" {
		t.Fatalf("cert %+v", c)
	}
}
