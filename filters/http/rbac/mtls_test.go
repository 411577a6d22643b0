package httprbac_test

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
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
)

// issue signs a certificate for tmpl with parent's key (self-signed when
// parent is nil) and returns it with its key.
func issue(t *testing.T, tmpl *x509.Certificate, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if parent == nil {
		parent, parentKey = tmpl, k
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &k.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c, k
}

func writePEM(t *testing.T, path string, c *x509.Certificate, k *ecdsa.PrivateKey) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	if k != nil {
		kb, _ := x509.MarshalECPrivateKey(k)
		_ = os.WriteFile(path+".key", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	}
}

// TestRBACAuthenticated: the authenticated principal matches the mTLS
// client certificate's URI SAN; another client's certificate is refused
// with 403 before the upstream.
func TestRBACAuthenticated(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	ca, caKey := issue(t, &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ca"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)}, nil, nil)
	srv, srvKey := issue(t, &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, IPAddresses: nil, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)}, ca, caKey)
	client := func(serial int64, spiffe string) tls.Certificate {
		u, _ := url.Parse(spiffe)
		c, k := issue(t, &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "client"}, URIs: []*url.URL{u},
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)}, ca, caKey)
		return tls.Certificate{Certificate: [][]byte{c.Raw}, PrivateKey: k}
	}
	writePEM(t, filepath.Join(dir, "ca.pem"), ca, nil)
	writePEM(t, filepath.Join(dir, "srv.pem"), srv, srvKey)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") }))
	defer up.Close()
	s := sluicetest.Start(t, fmt.Sprintf(`
listeners:
  - name: l
    address: 127.0.0.1:0
    filter_chains:
      - tls: {certificate_file: %[1]s/srv.pem, private_key_file: %[1]s/srv.pem.key, client_ca_file: %[1]s/ca.pem, require_client_certificate: true}
        filters:
          - http_connection_manager:
              stat_prefix: mtls
              route_config: {virtual_hosts: [{name: all, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: c}}]}]}
              http_filters:
                - rbac:
                    rules:
                      policies:
                        frontend:
                          permissions: [{any: true}]
                          principals: [{authenticated: {principal_name: {exact: "spiffe://test/frontend"}}}]
                - router: {}
clusters:
  - {name: c, connect_timeout: 1s, endpoints: ["%[2]s"]}
`, dir, up.Listener.Addr().String()))
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	for _, tc := range []struct {
		id   string
		code int
	}{{"spiffe://test/frontend", 200}, {"spiffe://test/batch", 403}} {
		c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
			RootCAs: pool, ServerName: "localhost", Certificates: []tls.Certificate{client(3, tc.id)}}}}
		resp, err := c.Get("https://" + s.Addr("l") + "/x")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		c.CloseIdleConnections()
		if resp.StatusCode != tc.code {
			t.Fatalf("%s: %d %q, want %d", tc.id, resp.StatusCode, b, tc.code)
		}
	}
	if s.Counter("http.mtls.rbac.allowed") != 1 || s.Counter("http.mtls.rbac.denied") != 1 {
		t.Fatalf("allowed %d denied %d", s.Counter("http.mtls.rbac.allowed"), s.Counter("http.mtls.rbac.denied"))
	}
}
