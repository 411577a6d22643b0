package tlsctx

import (
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"

	"github.com/sluice-proxy/sluice/internal/poll"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// sdsFile is a DiscoveryResponse with a server certificate (inline PEM) and
// a validation context, as a secret manager writes it.
func sdsFile(t testing.TB, path string, l *testenv.Leaf, caPEM []byte) {
	t.Helper()
	body := fmt.Sprintf(`version_info: "1"
resources:
  - "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret
    name: server_cert
    tls_certificate:
      certificate_chain: {inline_string: %s}
      private_key: {inline_string: %s}
  - "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret
    name: validation
    validation_context:
      trusted_ca: {inline_string: %s}
`, strconv.Quote(string(l.CertPEM)), strconv.Quote(string(l.KeyPEM)), strconv.Quote(string(caPEM)))
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// TestSDSFile: certificates and the client CA come from an SDS file
// (path_config_source); rewriting it rotates the served certificate.
func TestSDSFile(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t, "ca")
	first, second := issue(t, ca, testenv.LeafOptions{DNS: []string{"svc"}}), issue(t, ca, testenv.LeafOptions{DNS: []string{"svc"}})
	client := issue(t, ca, testenv.LeafOptions{URIs: []string{"spiffe://mesh/client"}})
	path := filepath.Join(dir, "sds.yaml")
	sdsFile(t, path, first, ca.PEM)
	st, store := newStats()
	s, err := NewServer(decodeTLS(t, fmt.Sprintf(`
require_client_certificate: true
common_tls_context:
  tls_certificate_sds_secret_configs:
    - name: server_cert
      sds_config: {path_config_source: {path: %[1]s, watched_directory: {path: %[2]s}}}
  validation_context_sds_secret_config:
    name: validation
    sds_config: {path_config_source: {path: %[1]s}}
`, path, dir)), Options{Path: "tls", Refresh: 20 * time.Millisecond, Stats: st})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	addr, results := serveTLS(t, s, st)
	go func() {
		for range results {
		}
	}()
	pair, _ := tls.X509KeyPair(client.CertPEM, client.KeyPEM)
	cfg := &tls.Config{RootCAs: pool(ca.PEM), ServerName: "svc", Certificates: []tls.Certificate{pair}}
	serial := func() string {
		cs, err := dial(addr, cfg)
		if err != nil {
			t.Fatalf("handshake: %v", err)
		}
		return cs.PeerCertificates[0].SerialNumber.String()
	}
	if got := serial(); got != first.Cert.SerialNumber.String() {
		t.Fatalf("serial %s, want the first certificate's", got)
	}
	sdsFile(t, path, second, ca.PEM)
	poll.Eventually(t, 10*time.Second, func() bool { return serial() == second.Cert.SerialNumber.String() }, "the SDS update served")
	if got := counter(t, store, "listener.t.server_ssl_socket_factory.ssl_context_update_by_sds"); got != 1 {
		t.Fatalf("ssl_context_update_by_sds = %d", got)
	}
}

// TestSDSErrors: a missing secret or a non-certificate secret refuses the
// build with the field path.
func TestSDSErrors(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t, "ca")
	path := filepath.Join(dir, "sds.yaml")
	sdsFile(t, path, issue(t, ca, testenv.LeafOptions{DNS: []string{"svc"}}), ca.PEM)
	for _, tc := range []struct{ name, want string }{
		{"nope", `tls.common_tls_context.tls_certificate_sds_secret_configs[0]: sds file ` + path + `: no secret named "nope"`},
		{"validation", `tls.common_tls_context.tls_certificate_sds_secret_configs[0]: secret "validation" is not a tls_certificate`},
	} {
		_, err := NewServer(decodeTLS(t, fmt.Sprintf(`
common_tls_context:
  tls_certificate_sds_secret_configs: [{name: %s, sds_config: {path_config_source: {path: %s}}}]
`, tc.name, path)), Options{Path: "tls", Refresh: -1})
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.want)
		}
	}
}

// memSecrets is a SecretSource holding the latest Secret per name, as an
// xDS client's cache does.
type memSecrets struct{ m sync.Map }

func (s *memSecrets) Fetch(name string) (*tlsv3.Secret, error) {
	if v, ok := s.m.Load(name); ok {
		return v.(*tlsv3.Secret), nil
	}
	return nil, fmt.Errorf("secret %q not received yet", name)
}

func (s *memSecrets) put(name string, l *testenv.Leaf) {
	s.m.Store(name, &tlsv3.Secret{Name: name, Type: &tlsv3.Secret_TlsCertificate{TlsCertificate: &tlsv3.TlsCertificate{
		CertificateChain: &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: l.CertPEM}},
		PrivateKey:       &corev3.DataSource{Specifier: &corev3.DataSource_InlineBytes{InlineBytes: l.KeyPEM}},
	}}})
}

// TestSecretSource: a secret config with sds_config: {ads: {}} is served
// by Options.Secrets; a missing one refuses the build; a new version is
// served to new handshakes.
func TestSecretSource(t *testing.T) {
	ca := newCA(t, "ca")
	first, second := issue(t, ca, testenv.LeafOptions{DNS: []string{"svc"}}), issue(t, ca, testenv.LeafOptions{DNS: []string{"svc"}})
	cfg := "common_tls_context:\n  tls_certificate_sds_secret_configs: [{name: xds_cert, sds_config: {ads: {}}}]\n"
	if _, err := NewServer(decodeTLS(t, cfg), Options{Path: "tls", Refresh: -1}); err == nil || !strings.Contains(err.Error(), "ads needs an xDS secret source") {
		t.Fatalf("without a source: %v", err)
	}
	src := &memSecrets{}
	if _, err := NewServer(decodeTLS(t, cfg), Options{Path: "tls", Refresh: -1, Secrets: src}); err == nil || !strings.Contains(err.Error(), `secret "xds_cert" not received yet`) {
		t.Fatalf("before the secret arrived: %v", err)
	}
	src.put("xds_cert", first)
	s, err := NewServer(decodeTLS(t, cfg), Options{Path: "tls", Refresh: 20 * time.Millisecond, Secrets: src})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	addr, results := serveTLS(t, s, nil)
	go func() {
		for range results {
		}
	}()
	serial := func() string {
		cs, err := dial(addr, &tls.Config{RootCAs: pool(ca.PEM), ServerName: "svc"})
		if err != nil {
			t.Fatalf("handshake: %v", err)
		}
		return cs.PeerCertificates[0].SerialNumber.String()
	}
	if serial() != first.Cert.SerialNumber.String() {
		t.Fatal("not the first secret's certificate")
	}
	src.put("xds_cert", second)
	poll.Eventually(t, 10*time.Second, func() bool { return serial() == second.Cert.SerialNumber.String() }, "the new secret served")
}
