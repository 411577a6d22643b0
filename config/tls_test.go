package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/internal/testenv"
	_ "github.com/sluice-proxy/sluice/router" // SAN matchers decode into router.StringMatcher
)

// TestTLSContextErrors: a TLS context's problems are refused with their
// field paths.
func TestTLSContextErrors(t *testing.T) {
	chain := func(tls string) string {
		return `
listeners:
  - name: l
    address: 127.0.0.1:0
    filter_chains:
      - tls: ` + tls + `
        filters: [{tcp_proxy: {stat_prefix: t, cluster: c}}]
clusters: [{name: c, endpoints: ["127.0.0.1:1"]}]
`
	}
	const cert = `tls_certificates: [{certificate_chain: {filename: /c.pem}, private_key: {filename: /k.pem}}]`
	for _, tc := range []struct{ name, tls, want string }{
		{"unknown field", `{require_sni: true, common_tls_context: {` + cert + `}}`, "listeners[0].filter_chains[0].tls.require_sni: unknown field"},
		{"no certificate", `{common_tls_context: {alpn_protocols: [h2]}}`, "listeners[0].filter_chains[0].tls.certificate_file: required (or common_tls_context.tls_certificates)"},
		{"both forms", `{certificate_file: /c.pem, private_key_file: /k.pem, common_tls_context: {` + cert + `}}`, "listeners[0].filter_chains[0].tls: give certificate_file/private_key_file or common_tls_context.tls_certificates, not both"},
		{"TLS 1.1", `{common_tls_context: {tls_params: {tls_minimum_protocol_version: TLSv1_1}, ` + cert + `}}`, "listeners[0].filter_chains[0].tls.common_tls_context.tls_params.tls_minimum_protocol_version: TLSv1_1 is refused"},
		{"SAN type", `{common_tls_context: {` + cert + `, validation_context: {trusted_ca: {filename: /ca.pem}, match_typed_subject_alt_names: [{san_type: OTHER_NAME, matcher: {exact: x}}]}}}`,
			"listeners[0].filter_chains[0].tls.common_tls_context.validation_context.match_typed_subject_alt_names[0].san_type: must be DNS, URI, EMAIL or IP_ADDRESS"},
		{"matcher", `{common_tls_context: {` + cert + `, validation_context: {trusted_ca: {filename: /ca.pem}, match_typed_subject_alt_names: [{san_type: URI, matcher: {exact: x, prefix: y}}]}}}`,
			"listeners[0].filter_chains[0].tls.common_tls_context.validation_context.match_typed_subject_alt_names[0].matcher: set exactly one of"},
		{"require without CA", `{require_client_certificate: true, common_tls_context: {` + cert + `}}`, "listeners[0].filter_chains[0].tls.require_client_certificate: needs a trusted CA"},
		{"data source", `{common_tls_context: {tls_certificates: [{certificate_chain: {filename: /c.pem, inline_string: x}, private_key: {filename: /k.pem}}]}}`,
			"listeners[0].filter_chains[0].tls.common_tls_context.tls_certificates[0].certificate_chain: set exactly one of"},
		{"sds without source", `{common_tls_context: {tls_certificate_sds_secret_configs: [{name: s}]}}`,
			"listeners[0].filter_chains[0].tls.common_tls_context.tls_certificate_sds_secret_configs[0].sds_config: required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Parse("tls.yaml", []byte(chain(tc.tls)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error:\n%v\nwant:\n%s", err, tc.want)
			}
		})
	}
}

// TestTLSCheckFiles: CheckFiles (sluice validate) loads the pairs and CA
// files of Envoy-shaped contexts: a key that is not the certificate's and
// a CA file without certificates are reported with their paths.
func TestTLSCheckFiles(t *testing.T) {
	dir := t.TempDir()
	ca, err := testenv.NewCA("ca")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := ca.Issue(testenv.LeafOptions{DNS: []string{"a"}})
	b, _ := ca.Issue(testenv.LeafOptions{DNS: []string{"b"}})
	acert, _, _ := a.Write(dir, "a")
	_, bkey, _ := b.Write(dir, "b")
	notCA := filepath.Join(dir, "not-ca.pem")
	os.WriteFile(notCA, []byte("nothing here"), 0o644)
	file := filepath.Join(dir, "sluice.yaml")
	os.WriteFile(file, []byte(`
listeners:
  - name: l
    address: 127.0.0.1:0
    filter_chains:
      - tls: {common_tls_context: {tls_certificates: [{certificate_chain: {filename: `+acert+`}, private_key: {filename: `+bkey+`}}]}}
        filters: [{tcp_proxy: {stat_prefix: t, cluster: c}}]
clusters:
  - {name: c, endpoints: ["127.0.0.1:1"], tls: {common_tls_context: {validation_context: {trusted_ca: {filename: `+notCA+`}}}}}
`), 0o644)
	cfg, err := config.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	err = cfg.CheckFiles()
	for _, want := range []string{
		"listeners[0].filter_chains[0].tls.common_tls_context.tls_certificates[0].certificate_chain: with private_key: tls: private key does not match public key",
		"clusters[0].tls.common_tls_context.validation_context.trusted_ca: no PEM certificate in " + notCA,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("CheckFiles: %v\nwant %s", err, want)
		}
	}
}
