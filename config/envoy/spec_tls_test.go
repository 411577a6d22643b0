package envoy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-proxy/sluice/internal/testenv"
	"github.com/sluice-proxy/sluice/router"
)

// TestTranslateTLS: a filter chain's DownstreamTlsContext and a cluster's
// UpstreamTlsContext become sluice's tls blocks with Envoy's field names;
// files stay file names, enums keep Envoy's spelling.
func TestTranslateTLS(t *testing.T) {
	dir := t.TempDir()
	ca, err := testenv.NewCA("ca")
	if err != nil {
		t.Fatal(err)
	}
	l, err := ca.Issue(testenv.LeafOptions{DNS: []string{"svc"}})
	if err != nil {
		t.Fatal(err)
	}
	cf, kf, err := l.Write(dir, "srv")
	if err != nil {
		t.Fatal(err)
	}
	caf := filepath.Join(dir, "ca.pem")
	os.WriteFile(caf, ca.PEM, 0o644)
	r := strings.NewReplacer("CERT", cf, "KEY", kf, "CA", caf)
	cfg, _ := parse(t, r.Replace(`
static_resources:
  listeners:
  - name: l
    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
    filter_chains:
    - filters:
      - name: tcp
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: t
          cluster: c
      transport_socket:
        name: envoy.transport_sockets.tls
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
          require_client_certificate: true
          full_scan_certs_on_sni_mismatch: true
          ocsp_staple_policy: STRICT_STAPLING
          common_tls_context:
            alpn_protocols: [h2]
            tls_params: {tls_minimum_protocol_version: TLSv1_3, cipher_suites: [ECDHE-ECDSA-AES128-GCM-SHA256]}
            tls_certificates: [{certificate_chain: {filename: CERT}, private_key: {filename: KEY}}]
            validation_context:
              trusted_ca: {filename: CA}
              match_typed_subject_alt_names: [{san_type: URI, matcher: {prefix: "spiffe://mesh/"}}]
              trust_chain_verification: ACCEPT_UNTRUSTED
  clusters:
  - name: c
    load_assignment:
      cluster_name: c
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 1}}}}]}]
    transport_socket:
      name: envoy.transport_sockets.tls
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
        sni: db.internal
        max_session_keys: 4
        common_tls_context:
          tls_certificates: [{certificate_chain: {filename: CERT}, private_key: {filename: KEY}}]
          validation_context: {trusted_ca: {filename: CA}}
`))
	d := cfg.Listeners[0].FilterChains[0].TLS
	c := d.CommonTLSContext
	if !d.RequireClientCert || !d.FullScanCertsOnSNIMismatch || d.OcspStaplePolicy != "STRICT_STAPLING" ||
		c.ALPNProtocols[0] != "h2" || c.TLSParams.TLSMinimumProtocolVersion != "TLSv1_3" ||
		c.TLSCertificates[0].CertificateChain.Filename != cf || c.ValidationContext.TrustedCA.Filename != caf ||
		c.ValidationContext.TrustChainVerification != "ACCEPT_UNTRUSTED" {
		t.Fatalf("downstream: %+v %+v", d, c)
	}
	m := c.ValidationContext.MatchTypedSubjectAltNames[0]
	if sm, ok := m.Matcher.M.(*router.StringMatcher); m.SANType != "URI" || !ok || sm.Prefix != "spiffe://mesh/" {
		t.Fatalf("SAN matcher %+v", m)
	}
	u := cfg.Clusters[0].TLS
	if u == nil || u.SNI != "db.internal" || *u.MaxSessionKeys != 4 || u.CommonTLSContext.ValidationContext.TrustedCA.Filename != caf {
		t.Fatalf("upstream: %+v", u)
	}
}

// TestTLSRefusals: unsupported TLS fields and misplaced contexts are
// refused with their Envoy paths.
func TestTLSRefusals(t *testing.T) {
	chain := func(ctx string) string {
		return `
static_resources:
  listeners:
  - name: l
    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
    filter_chains:
    - filters:
      - name: tcp
        typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: t, cluster: c}
      transport_socket:
        name: tls
        typed_config:
` + ctx + `
  clusters:
  - name: c
    load_assignment: {cluster_name: c, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 1}}}}]}]}
`
	}
	for _, tc := range []struct{ name, ctx, want string }{
		{"require_sni", `          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
          require_sni: true`, "static_resources.listeners[0].filter_chains[0].transport_socket.typed_config.require_sni: not supported by sluice"},
		{"upstream on a chain", `          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
          sni: x`, "static_resources.listeners[0].filter_chains[0].transport_socket.typed_config.@type: a filter chain takes DownstreamTlsContext"},
		{"TLS 1.0", `          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
          common_tls_context:
            tls_params: {tls_minimum_protocol_version: TLSv1_0}
            tls_certificates: [{certificate_chain: {inline_string: x}, private_key: {inline_string: y}}]`,
			"static_resources.listeners[0].filter_chains[0].transport_socket.typed_config.common_tls_context.tls_params.tls_minimum_protocol_version: TLSv1_0 is refused"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Parse("e.yaml", []byte(chain(tc.ctx)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v\nwant %s", err, tc.want)
			}
		})
	}
}
