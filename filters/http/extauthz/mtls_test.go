package extauthz_test

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// TestOPAPeerCertificate: over mTLS the check carries the client's URI SAN
// as source.principal and, with include_peer_certificate, its certificate
// (URL-encoded PEM), which the policy reads.
func TestOPAPeerCertificate(t *testing.T) {
	ca, err := testenv.NewCA("authz-ca")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ca.Issue(testenv.LeafOptions{CommonName: "localhost", DNS: []string{"localhost"}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, b := range map[string][]byte{"ca.pem": ca.PEM, "srv.pem": srv.CertPEM, "srv.key": srv.KeyPEM} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	opa := testenv.OPAAuthz(t, policy)
	up, sn := upstream(t)
	s := sluicetest.Start(t, fmt.Sprintf(`
listeners:
  - name: l
    address: 127.0.0.1:0
    filter_chains:
      - tls: {certificate_file: %[1]s/srv.pem, private_key_file: %[1]s/srv.key, client_ca_file: %[1]s/ca.pem, require_client_certificate: true}
        filters:
          - http_connection_manager:
              stat_prefix: mtls
              route_config: {virtual_hosts: [{name: all, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: c}}]}]}
              http_filters:
                - ext_authz: {grpc_service: {envoy_grpc: {cluster_name: authz}, timeout: 5s}, include_peer_certificate: true}
                - router: {}
clusters:
  - {name: c, connect_timeout: 1s, endpoints: ["%[2]s"]}
  - {name: authz, connect_timeout: 1s, endpoints: ["%[3]s"]}
`, dir, strings.TrimPrefix(up.URL, "http://"), opa.GRPCAddr()))
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	for _, tc := range []struct {
		id   string
		code int
	}{{"spiffe://test/frontend", 200}, {"spiffe://test/batch", 403}} {
		leaf, err := ca.Issue(testenv.LeafOptions{CommonName: "client", URIs: []string{tc.id}})
		if err != nil {
			t.Fatal(err)
		}
		cert, err := tls.X509KeyPair(leaf.CertPEM, leaf.KeyPEM)
		if err != nil {
			t.Fatal(err)
		}
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost", Certificates: []tls.Certificate{cert}}}
		c := &http.Client{Timeout: 10 * time.Second, Transport: tr}
		resp, err := c.Get("https://" + s.Addr("l") + "/mtls")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		tr.CloseIdleConnections()
		if resp.StatusCode != tc.code {
			t.Fatalf("%s: %d, want %d", tc.id, resp.StatusCode, tc.code)
		}
	}
	if sn.count() != 1 {
		t.Fatalf("upstream got %d requests, want 1", sn.count())
	}
}
