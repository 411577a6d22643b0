package tlsctx

import (
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/sluice-proxy/sluice/internal/testenv"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// serverFiles writes one ECDSA server certificate for "svc".
func serverFiles(t *testing.T) (ca *testenv.CA, certFile, keyFile string) {
	ca = newCA(t, "ca")
	cf, kf, err := issue(t, ca, testenv.LeafOptions{DNS: []string{"svc"}}).Write(t.TempDir(), "srv")
	if err != nil {
		t.Fatal(err)
	}
	return ca, cf, kf
}

// TestParams: TLS 1.2 is the default minimum (a TLS 1.1 client is
// refused); tls_params pin the version, the cipher (OpenSSL name) and the
// curve, and the ssl.versions / ciphers / curves counters name them.
func TestParams(t *testing.T) {
	ca, cf, kf := serverFiles(t)
	for _, tc := range []struct {
		name, params string
		client       *tls.Config
		fail         bool
		counters     []string
	}{
		{"default refuses TLS 1.1", "", &tls.Config{MaxVersion: tls.VersionTLS11}, true, nil},
		{"default refuses CBC", "", &tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA}}, true, nil},
		{"default TLS 1.3", "", &tls.Config{}, false, []string{"versions.TLSv1.3", "ciphers.TLS_AES_128_GCM_SHA256"}},
		{"pinned 1.2 suite and curve", `tls_params: {tls_maximum_protocol_version: TLSv1_2, cipher_suites: ["[ECDHE-ECDSA-CHACHA20-POLY1305|ECDHE-RSA-CHACHA20-POLY1305]"], ecdh_curves: [P-384]}`,
			&tls.Config{}, false, []string{"versions.TLSv1.2", "ciphers.ECDHE-ECDSA-CHACHA20-POLY1305", "curves.P-384"}},
		{"minimum 1.3 refuses 1.2", `tls_params: {tls_minimum_protocol_version: TLSv1_3}`, &tls.Config{MaxVersion: tls.VersionTLS12}, true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, store := newStats()
			s, err := NewServer(decodeTLS(t, fmt.Sprintf("common_tls_context:\n  tls_certificates: [{certificate_chain: {filename: %s}, private_key: {filename: %s}}]\n  %s\n", cf, kf, tc.params)),
				Options{Path: "tls", Refresh: -1})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			addr, results := serveTLS(t, s, st)
			cfg := tc.client.Clone()
			cfg.RootCAs, cfg.ServerName = pool(ca.PEM), "svc"
			_, cerr := dial(addr, cfg)
			serr := <-results
			if tc.fail != (serr != nil) || tc.fail != (cerr != nil) {
				t.Fatalf("client %v server %v, want failure %v", cerr, serr, tc.fail)
			}
			for _, c := range tc.counters {
				if counter(t, store, "listener.t.ssl."+c) != 1 {
					t.Errorf("ssl.%s not counted", c)
				}
			}
		})
	}
}

// TestParamErrors: unknown names are refused with their path.
func TestParamErrors(t *testing.T) {
	_, cf, kf := serverFiles(t)
	for _, tc := range []struct{ params, want string }{
		{`tls_params: {cipher_suites: [ECDHE-RSA-AES128-GCM-SHA256, RC4-MD5]}`, `tls.common_tls_context.tls_params.cipher_suites[1]: unknown or unsupported cipher "RC4-MD5"`},
		{`tls_params: {ecdh_curves: [brainpool]}`, `tls.common_tls_context.tls_params.ecdh_curves[0]: unknown curve "brainpool"`},
		{`tls_params: {tls_minimum_protocol_version: TLSv1_3, tls_maximum_protocol_version: TLSv1_2}`, `tls.common_tls_context.tls_params: tls_minimum_protocol_version is above`},
	} {
		_, err := NewServer(decodeTLS(t, fmt.Sprintf("common_tls_context:\n  tls_certificates: [{certificate_chain: {filename: %s}, private_key: {filename: %s}}]\n  %s\n", cf, kf, tc.params)),
			Options{Path: "tls", Refresh: -1})
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%v, want %s...", err, tc.want)
		}
	}
}

// TestSessionTickets: with Envoy's 80-byte ticket key files two servers
// sharing the keys resume each other's sessions (ssl.session_reused);
// disable_stateless_session_resumption turns resumption off.
func TestSessionTickets(t *testing.T) {
	ca, cf, kf := serverFiles(t)
	key := make([]byte, 80)
	rand.Read(key)
	kfile := writeFile(t, t.TempDir(), "ticket.key", key)
	certs := fmt.Sprintf("common_tls_context:\n  tls_certificates: [{certificate_chain: {filename: %s}, private_key: {filename: %s}}]\n", cf, kf)
	for _, tc := range []struct {
		name, extra string
		resumed     bool
	}{
		{"shared keys", "session_ticket_keys: {keys: [{filename: " + kfile + "}]}\n", true},
		{"disabled", "disable_stateless_session_resumption: true\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, store := newStats()
			var addrs []string
			for range 2 {
				s, err := NewServer(decodeTLS(t, certs+tc.extra), Options{Path: "tls", Refresh: -1})
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				addr, results := serveTLS(t, s, st)
				go func() {
					for range results {
					}
				}()
				addrs = append(addrs, addr)
			}
			cfg := &tls.Config{RootCAs: pool(ca.PEM), ServerName: "svc", ClientSessionCache: tls.NewLRUClientSessionCache(4)}
			if _, err := dial(addrs[0], cfg); err != nil {
				t.Fatal(err)
			}
			cs, err := dial(addrs[1], cfg)
			if err != nil {
				t.Fatal(err)
			}
			if cs.DidResume != tc.resumed {
				t.Fatalf("resumed %v, want %v", cs.DidResume, tc.resumed)
			}
			want := uint64(0)
			if tc.resumed {
				want = 1
			}
			if got := counter(t, store, "listener.t.ssl.session_reused"); got != want {
				t.Fatalf("session_reused %d, want %d", got, want)
			}
		})
	}
}

// TestALPN: alpn_protocols is offered and chosen.
func TestALPN(t *testing.T) {
	ca, cf, kf := serverFiles(t)
	s, err := NewServer(decodeTLS(t, fmt.Sprintf("common_tls_context:\n  alpn_protocols: [h2, http/1.1]\n  tls_certificates: [{certificate_chain: {filename: %s}, private_key: {filename: %s}}]\n", cf, kf)),
		Options{Path: "tls", Refresh: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	addr, results := serveTLS(t, s, nil)
	cs, err := dial(addr, &tls.Config{RootCAs: pool(ca.PEM), ServerName: "svc", NextProtos: []string{"http/1.1"}})
	<-results
	if err != nil || cs.NegotiatedProtocol != "http/1.1" {
		t.Fatalf("%v %q", err, cs.NegotiatedProtocol)
	}
}

// TestOCSPStaple: the staple is sent to clients; must_staple refuses a
// certificate without one.
func TestOCSPStaple(t *testing.T) {
	ca, cf, kf := serverFiles(t)
	staple := []byte("\x30\x03\x0a\x01\x00") // an OCSPResponse (status successful, no body): bytes are sent as given
	sf := writeFile(t, t.TempDir(), "ocsp.der", staple)
	s, err := NewServer(decodeTLS(t, fmt.Sprintf("ocsp_staple_policy: MUST_STAPLE\ncommon_tls_context:\n  tls_certificates: [{certificate_chain: {filename: %s}, private_key: {filename: %s}, ocsp_staple: {filename: %s}}]\n", cf, kf, sf)),
		Options{Path: "tls", Refresh: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	addr, results := serveTLS(t, s, nil)
	cs, err := dial(addr, &tls.Config{RootCAs: pool(ca.PEM), ServerName: "svc"})
	<-results
	if err != nil || string(cs.OCSPResponse) != string(staple) {
		t.Fatalf("%v: OCSP response %x", err, cs.OCSPResponse)
	}
	_, err = NewServer(decodeTLS(t, fmt.Sprintf("ocsp_staple_policy: MUST_STAPLE\ncommon_tls_context:\n  tls_certificates: [{certificate_chain: {filename: %s}, private_key: {filename: %s}}]\n", cf, kf)),
		Options{Path: "tls", Refresh: -1})
	if err == nil || !strings.Contains(err.Error(), "tls: certificate 0 has no ocsp_staple") {
		t.Fatalf("must_staple without a staple: %v", err)
	}
}
