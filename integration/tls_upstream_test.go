package integration

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// upstreamTLS is a cluster tls block: verify the server against the CA and
// its DNS SAN, present the good client certificate (mTLS origination).
func (p *pki) upstreamTLS(sni string) string {
	return fmt.Sprintf(`{sni: %s, common_tls_context: {tls_certificates: [{certificate_chain: {filename: %s}, private_key: {filename: %s}}],
      validation_context: {trusted_ca: {filename: %s}, match_typed_subject_alt_names: [{san_type: DNS, matcher: {exact: localhost}}]}}}`,
		sni, p.clients["good"][0], p.clients["good"][1], p.caFile)
}

// TestRedisTLSBothWays: redis-cli --tls talks to sluice's TLS listener;
// tcp_proxy carries the bytes to a TLS-only redis-server (client
// certificates required) over upstream TLS; redis_proxy does the same
// for a plain redis-cli. The cluster's ssl.* counters count the
// handshakes, the redis health check's among them; a cluster whose CA does not sign the server fails the
// connect and counts ssl.fail_verify_error.
func TestRedisTLSBothWays(t *testing.T) {
	if _, err := exec.LookPath("redis-cli"); err != nil {
		t.Fatal("redis-cli is not installed (.ci/deps.sh installs redis-tools)")
	}
	p := newPKI(t)
	srv := testenv.Redis(t, testenv.RedisTLS(testenv.RedisTLSFiles{Cert: p.srvCert, Key: p.srvKey, CA: p.caFile}))
	other, err := testenv.NewCA("not the server's CA")
	if err != nil {
		t.Fatal(err)
	}
	otherCA := writeTemp(t, "other-ca.pem", other.PEM)
	s := sluicetest.Start(t, fmt.Sprintf(`
listeners:
  - name: tls
    address: 127.0.0.1:0
    filter_chains:
      - tls: {common_tls_context: {tls_certificates: [{certificate_chain: {filename: %[1]s}, private_key: {filename: %[2]s}}]}}
        filters: [{tcp_proxy: {stat_prefix: r, cluster: redis}}]
  - name: plain
    address: 127.0.0.1:0
    filters:
      - redis_proxy:
          stat_prefix: rp
          settings: {op_timeout: 5s}
          prefix_routes: {catch_all_route: {cluster: redis}}
  - name: wrong
    address: 127.0.0.1:0
    filters: [{tcp_proxy: {stat_prefix: w, cluster: wrong}}]
clusters:
  - name: redis
    endpoints: ["%[3]s"]
    tls: %[4]s
    health_checks: [{interval: 100ms, timeout: 1s, unhealthy_threshold: 2, healthy_threshold: 1, redis_health_check: {}}]
  - name: wrong
    endpoints: ["%[3]s"]
    tls: {common_tls_context: {validation_context: {trusted_ca: {filename: %[5]s}}}}
`, p.srvCert, p.srvKey, srv.Addr(), p.upstreamTLS("localhost"), otherCA))
	cli := func(listener string, tlsArgs bool, args ...string) (string, error) {
		host, port := splitAddr(t, s.Addr(listener))
		all := []string{"-h", host, "-p", port}
		if tlsArgs {
			all = append(all, "--tls", "--cacert", p.caFile, "--sni", "localhost")
		}
		out, err := exec.Command("redis-cli", append(all, args...)...).CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	if out, err := cli("tls", true, "SET", "k", "through TLS twice"); err != nil || out != "OK" {
		t.Fatalf("redis-cli --tls SET: %v %q", err, out)
	}
	if out, err := cli("plain", false, "GET", "k"); err != nil || out != "through TLS twice" {
		t.Fatalf("redis_proxy GET over upstream TLS: %v %q", err, out)
	}
	// The redis health check speaks TLS too (Envoy's checks use the
	// cluster's transport socket); the host would be down otherwise.
	s.WaitCounter("cluster.redis.health_check.success", 2, 5*time.Second)
	s.WaitCounter("cluster.redis.ssl.handshake", 2, 5*time.Second)
	if s.Counter("cluster.redis.ssl.versions.TLSv1.3") < 2 {
		t.Fatalf("cluster.redis.ssl.versions.TLSv1.3 = %d", s.Counter("cluster.redis.ssl.versions.TLSv1.3"))
	}
	if out, err := cli("wrong", false, "PING"); err == nil && out == "PONG" {
		t.Fatal("PING through a cluster that cannot verify the server worked")
	}
	s.WaitCounter("cluster.wrong.ssl.fail_verify_error", 1, 5*time.Second)
	s.WaitCounter("cluster.wrong.upstream_cx_connect_fail", 1, 5*time.Second)
}

func splitAddr(t *testing.T, addr string) (host, port string) {
	t.Helper()
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return h, p
}

func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestUpstreamAutoSNI: with auto_sni the downstream's SNI goes upstream;
// with a fixed sni that one does; ALPN from the cluster's context is
// offered. The upstream is a crypto/tls server recording what it saw.
func TestUpstreamAutoSNI(t *testing.T) {
	p := newPKI(t)
	pair, err := tls.LoadX509KeyPair(p.srvCert, p.srvKey)
	if err != nil {
		t.Fatal(err)
	}
	seen := make(chan [2]string, 4)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pair}, NextProtos: []string{"redis"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				tc := c.(*tls.Conn)
				if tc.Handshake() == nil {
					st := tc.ConnectionState()
					seen <- [2]string{st.ServerName, st.NegotiatedProtocol}
					io.Copy(tc, tc)
				}
			}()
		}
	}()
	s := sluicetest.Start(t, fmt.Sprintf(`
listeners:
  - name: auto
    address: 127.0.0.1:0
    filter_chains:
      - tls: {common_tls_context: {tls_certificates: [{certificate_chain: {filename: %[1]s}, private_key: {filename: %[2]s}}]}}
        filters: [{tcp_proxy: {stat_prefix: a, cluster: auto}}]
  - name: fixed
    address: 127.0.0.1:0
    filters: [{tcp_proxy: {stat_prefix: f, cluster: fixed}}]
clusters:
  - {name: auto, endpoints: ["%[3]s"], tls: {auto_sni: true, common_tls_context: {alpn_protocols: [redis], validation_context: {trusted_ca: {filename: %[4]s}}}}}
  - {name: fixed, endpoints: ["%[3]s"], tls: {sni: fixed.internal}}
`, p.srvCert, p.srvKey, ln.Addr(), p.caFile))
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(p.ca.PEM)
	c, err := tls.Dial("tcp", s.Addr("auto"), &tls.Config{RootCAs: roots, ServerName: "localhost"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintln(c, "hi")
	if got := <-seen; got != [2]string{"localhost", "redis"} {
		t.Fatalf("auto_sni upstream saw SNI/ALPN %q, want localhost/redis", got)
	}
	pc, err := net.Dial("tcp", s.Addr("fixed"))
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	fmt.Fprintln(pc, "hi")
	if got := <-seen; got[0] != "fixed.internal" {
		t.Fatalf("fixed sni: upstream saw %q", got[0])
	}
}
