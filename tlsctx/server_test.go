package tlsctx

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/internal/testenv"
)

// TestMTLS: a client certificate is accepted when good and refused, with
// its ssl.fail_verify_* counter and reason, when missing, expired, from
// another CA, with the wrong SAN, revoked or not matching a pin.
func TestMTLS(t *testing.T) {
	dir := t.TempDir()
	ca, other := newCA(t, "mesh CA"), newCA(t, "other CA")
	srv := issue(t, ca, testenv.LeafOptions{CommonName: "db", DNS: []string{"db.mesh"}})
	certFile, keyFile, err := srv.Write(dir, "srv")
	if err != nil {
		t.Fatal(err)
	}
	good := issue(t, ca, testenv.LeafOptions{CommonName: "app", URIs: []string{"spiffe://mesh/ns/a/sa/app"}})
	expired := issue(t, ca, testenv.LeafOptions{URIs: []string{"spiffe://mesh/ns/a/sa/app"}, NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	wrongCA := issue(t, other, testenv.LeafOptions{URIs: []string{"spiffe://mesh/ns/a/sa/app"}})
	wrongSAN := issue(t, ca, testenv.LeafOptions{URIs: []string{"spiffe://mesh/ns/b/sa/intruder"}})
	revoked := issue(t, ca, testenv.LeafOptions{URIs: []string{"spiffe://mesh/ns/a/sa/app"}})
	crl, err := ca.CRL(revoked.Cert)
	if err != nil {
		t.Fatal(err)
	}
	caFile, crlFile := writeFile(t, dir, "ca.pem", ca.PEM), writeFile(t, dir, "crl.pem", crl)

	base := fmt.Sprintf(`
require_client_certificate: true
common_tls_context:
  tls_certificates: [{certificate_chain: {filename: %s}, private_key: {filename: %s}}]
  validation_context:
    trusted_ca: {filename: %s}
    crl: {filename: %s}
    match_typed_subject_alt_names:
      - {san_type: URI, matcher: {prefix: "spiffe://mesh/ns/a/"}}
`, certFile, keyFile, caFile, crlFile)
	st, store := newStats()
	s, err := NewServer(decodeTLS(t, base), Options{Path: "tls", Refresh: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	addr, results := serveTLS(t, s, st)

	pinned := sha256.Sum256(good.Cert.Raw)
	for _, tc := range []struct {
		name    string
		client  *testenv.Leaf
		counter string // empty: accepted
		reason  string
	}{
		{"good", good, "", ""},
		{"missing", nil, "fail_verify_no_cert", "sent no certificate"},
		{"expired", expired, "fail_verify_error", "expired"},
		{"wrong CA", wrongCA, "fail_verify_error", "unknown authority"},
		{"wrong SAN", wrongSAN, "fail_verify_san", "spiffe://mesh/ns/b/sa/intruder"},
		{"revoked", revoked, "fail_verify_error", "revoked"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := "listener.t.ssl." + tc.counter
			before := counter(t, store, name)
			cfg := &tls.Config{RootCAs: pool(ca.PEM), ServerName: "db.mesh"}
			if tc.client != nil {
				pair, err := tls.X509KeyPair(tc.client.CertPEM, tc.client.KeyPEM)
				if err != nil {
					t.Fatal(err)
				}
				cfg.Certificates = []tls.Certificate{pair}
			}
			cs, cerr := dial(addr, cfg)
			serr := <-results
			if tc.counter == "" {
				if cerr != nil || serr != nil {
					t.Fatalf("refused: client %v, server %v", cerr, serr)
				}
				if p := PeerOf(cs); p == nil || p.DNSSANs[0] != "db.mesh" {
					t.Fatalf("server peer %+v", p)
				}
				return
			}
			if serr == nil {
				t.Fatal("accepted")
			}
			var ve *VerifyError
			if !errors.As(serr, &ve) || !strings.Contains(ve.Reason, tc.reason) {
				t.Fatalf("reason %v, want one mentioning %q", serr, tc.reason)
			}
			if got := counter(t, store, name); got != before+1 {
				t.Fatalf("%s = %d, want %d", name, got, before+1)
			}
		})
	}
	if counter(t, store, "listener.t.ssl.connection_error") != 5 || counter(t, store, "listener.t.ssl.handshake") != 1 {
		t.Fatalf("connection_error %d handshake %d", counter(t, store, "listener.t.ssl.connection_error"), counter(t, store, "listener.t.ssl.handshake"))
	}

	// A hash pin that the good certificate does not match refuses it; the
	// matching pin accepts it; ACCEPT_UNTRUSTED takes the other CA's.
	for _, tc := range []struct {
		name, extra string
		client      *testenv.Leaf
		want        string
	}{
		{"hash mismatch", "    verify_certificate_hash: [\"" + strings.Repeat("ab", 32) + "\"]\n", good, "fail_verify_cert_hash"},
		{"hash match", "    verify_certificate_hash: [\"" + hex.EncodeToString(pinned[:]) + "\"]\n", good, ""},
		{"accept untrusted", "    trust_chain_verification: ACCEPT_UNTRUSTED\n", wrongCA, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, store := newStats()
			s, err := NewServer(decodeTLS(t, base+tc.extra), Options{Path: "tls", Refresh: -1})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			addr, results := serveTLS(t, s, st)
			pair, _ := tls.X509KeyPair(tc.client.CertPEM, tc.client.KeyPEM)
			dial(addr, &tls.Config{RootCAs: pool(ca.PEM), ServerName: "db.mesh", Certificates: []tls.Certificate{pair}})
			serr := <-results
			if tc.want == "" {
				if serr != nil {
					t.Fatalf("refused: %v", serr)
				}
				return
			}
			if serr == nil || counter(t, store, "listener.t.ssl."+tc.want) != 1 {
				t.Fatalf("err %v, %s = %d", serr, tc.want, counter(t, store, "listener.t.ssl."+tc.want))
			}
		})
	}
}

// TestCertificateSelection: two names, each with an RSA and an ECDSA
// certificate: the SNI picks the name, the client's signature algorithms
// the key type; an unknown SNI gets the first certificate.
func TestCertificateSelection(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t, "ca")
	var certs strings.Builder
	leaves := map[string]*testenv.Leaf{}
	for _, k := range []struct {
		name string
		rsa  bool
	}{{"a.test", true}, {"a.test", false}, {"b.test", true}, {"*.c.test", false}} {
		l := issue(t, ca, testenv.LeafOptions{DNS: []string{k.name}, RSA: k.rsa})
		id := fmt.Sprintf("%s-%v", strings.TrimPrefix(k.name, "*."), k.rsa)
		leaves[id] = l
		cf, kf, err := l.Write(dir, id)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&certs, "    - {certificate_chain: {filename: %s}, private_key: {filename: %s}}\n", cf, kf)
	}
	s, err := NewServer(decodeTLS(t, "common_tls_context:\n  tls_certificates:\n"+certs.String()), Options{Path: "tls", Refresh: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	addr, results := serveTLS(t, s, nil)
	for _, tc := range []struct {
		sni     string
		ciphers []uint16 // TLS 1.2 suites: pick the key type
		want    string
	}{
		{"a.test", []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}, "a.test-false"},
		{"a.test", []uint16{tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256}, "a.test-true"},
		{"b.test", nil, "b.test-true"},
		{"x.c.test", nil, "c.test-false"},
		{"unknown.test", nil, "a.test-true"},
	} {
		cfg := &tls.Config{RootCAs: pool(ca.PEM), ServerName: tc.sni, InsecureSkipVerify: true}
		if tc.ciphers != nil {
			cfg.MaxVersion, cfg.CipherSuites = tls.VersionTLS12, tc.ciphers
		}
		cs, err := dial(addr, cfg)
		if serr := <-results; err != nil || serr != nil {
			t.Fatalf("%s: client %v server %v", tc.sni, err, serr)
		}
		if got := cs.PeerCertificates[0].SerialNumber; got.Cmp(leaves[tc.want].Cert.SerialNumber) != 0 {
			t.Errorf("SNI %s ciphers %v: got the certificate for %v, want %s", tc.sni, tc.ciphers, cs.PeerCertificates[0].DNSNames, tc.want)
		}
	}

	// With full_scan_certs_on_sni_mismatch an unknown SNI gets the first
	// certificate the client can use: an ECDSA-only client an ECDSA one.
	full, err := NewServer(decodeTLS(t, "full_scan_certs_on_sni_mismatch: true\ncommon_tls_context:\n  tls_certificates:\n"+certs.String()), Options{Path: "tls", Refresh: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer full.Close()
	faddr, fresults := serveTLS(t, full, nil)
	cs, err := dial(faddr, &tls.Config{ServerName: "unknown.test", InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12,
		CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}})
	<-fresults
	if err != nil || cs.PeerCertificates[0].SerialNumber.Cmp(leaves["a.test-false"].Cert.SerialNumber) != 0 {
		t.Fatalf("full scan: %v, got %v", err, cs)
	}
}
