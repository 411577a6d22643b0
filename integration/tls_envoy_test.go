package integration

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// TestEnvoyMTLSBothWays: an Envoy bootstrap with a DownstreamTlsContext
// requiring client certificates of the test CA with the shop SPIFFE ID,
// and a cluster with an UpstreamTlsContext (SNI, server verification by CA
// and SAN, client certificate) to a TLS-only redis-server: redis-cli
// --tls with the app's certificate gets through both legs; with another
// identity it is refused and counted in ssl.fail_verify_san.
func TestEnvoyMTLSBothWays(t *testing.T) {
	p := newPKI(t)
	srv := testenv.Redis(t, testenv.RedisTLS(testenv.RedisTLSFiles{Cert: p.srvCert, Key: p.srvKey, CA: p.caFile}))
	host, port := splitAddr(t, srv.Addr())
	r := strings.NewReplacer("SRVCERT", p.srvCert, "SRVKEY", p.srvKey, "CA", p.caFile, "APPCERT", p.clients["good"][0],
		"APPKEY", p.clients["good"][1], "HOST", host, "PORT", port)
	s := sluicetest.StartEnvoy(t, r.Replace(`
static_resources:
  listeners:
  - name: redis
    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
    filter_chains:
    - transport_socket:
        name: envoy.transport_sockets.tls
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext
          require_client_certificate: true
          common_tls_context:
            tls_params: {tls_minimum_protocol_version: TLSv1_2}
            tls_certificates: [{certificate_chain: {filename: SRVCERT}, private_key: {filename: SRVKEY}}]
            validation_context:
              trusted_ca: {filename: CA}
              match_typed_subject_alt_names: [{san_type: URI, matcher: {prefix: "spiffe://sluice.test/ns/shop/"}}]
      filters:
      - name: envoy.filters.network.tcp_proxy
        typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: r, cluster: redis}
  clusters:
  - name: redis
    connect_timeout: 2s
    load_assignment:
      cluster_name: redis
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: HOST, port_value: PORT}}}}]}]
    transport_socket:
      name: envoy.transport_sockets.tls
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext
        sni: localhost
        common_tls_context:
          tls_certificates: [{certificate_chain: {filename: APPCERT}, private_key: {filename: APPKEY}}]
          validation_context:
            trusted_ca: {filename: CA}
            match_typed_subject_alt_names: [{san_type: DNS, matcher: {exact: localhost}}]
`))
	lhost, lport := splitAddr(t, s.Addr("redis"))
	cli := func(client string, args ...string) (string, error) {
		all := []string{"-h", lhost, "-p", lport, "--tls", "--cacert", p.caFile, "--sni", "localhost",
			"--cert", p.clients[client][0], "--key", p.clients[client][1]}
		out, err := exec.Command("redis-cli", append(all, args...)...).CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	if out, err := cli("good", "SET", "envoy", "mtls both ways"); err != nil || out != "OK" {
		t.Fatalf("redis-cli --tls with the app's certificate: %v %q", err, out)
	}
	if out, err := cli("good", "GET", "envoy"); err != nil || out != "mtls both ways" {
		t.Fatalf("GET: %v %q", err, out)
	}
	if out, err := cli("wrong-san", "PING"); err == nil && out == "PONG" {
		t.Fatal("another identity got through")
	}
	ssl := "listener." + strings.ReplaceAll(s.Addr("redis"), ":", "_") + ".ssl."
	s.WaitCounter(ssl+"fail_verify_san", 1, 5*time.Second)
	s.WaitCounter(ssl+"handshake", 2, 5*time.Second)
	s.WaitCounter("cluster.redis.ssl.handshake", 2, 5*time.Second)
}
