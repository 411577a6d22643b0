package dynamicforwardproxy_test

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/sluice-proxy/sluice/filters/http/dynamicforwardproxy"
	_ "github.com/sluice-proxy/sluice/filters/httpconn"
	"github.com/sluice-proxy/sluice/internal/poll"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// egressConfig: a forward proxy allowing "localhost" and "nx.invalid" (a
// name that never resolves) through the DNS cache cluster; every other
// domain falls to the "*" virtual host and gets 403. The access log
// records the response flags.
func egressConfig(logPath string) string {
	return fmt.Sprintf(`
listeners:
  - name: l
    address: 127.0.0.1:0
    filters:
      - http_connection_manager:
          stat_prefix: egress
          access_log: [{path: %q, format: "%%REQ(:AUTHORITY)%% %%RESPONSE_CODE%% %%RESPONSE_FLAGS%%\n"}]
          http_filters:
            - dynamic_forward_proxy: {dns_cache_config: {name: egress_cache}}
            - router: {}
          route_config:
            ignore_port_in_host_matching: true
            virtual_hosts:
              - name: allowed
                domains: ["localhost", "nx.invalid"]
                routes:
                  - {match: {connect_matcher: {}}, route: {cluster: dfp, timeout: 0s, upgrade_configs: [{upgrade_type: CONNECT}]}}
                  - {match: {prefix: "/"}, route: {cluster: dfp}}
              - name: denied
                domains: ["*"]
                routes:
                  - {match: {connect_matcher: {}}, direct_response: {status: 403, body: {inline_string: "domain not allowed"}}}
                  - {match: {prefix: "/"}, direct_response: {status: 403, body: {inline_string: "domain not allowed"}}}
clusters:
  - name: dfp
    type: dynamic_forward_proxy
    connect_timeout: 1s
    dns_cache_config: {name: egress_cache, dns_lookup_family: V4_ONLY, max_hosts: 16, dns_refresh_rate: 60s}
`, logPath)
}

func curl(t *testing.T, args ...string) (string, string) {
	t.Helper()
	out, err := exec.Command("curl", append([]string{"-sS", "-o", "-", "-w", "\n%{http_code}"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("curl %v: %v: %s", args, err, out)
	}
	s := string(out)
	i := strings.LastIndexByte(s, '\n')
	return s[:i], s[i+1:]
}

func port(addr string) string { return addr[strings.LastIndexByte(addr, ':')+1:] }

func TestForwardProxyCurl(t *testing.T) {
	logPath := filepath.Join(t.TempDir(), "access.log")
	s := sluicetest.Start(t, egressConfig(logPath))
	proxy := "http://" + s.Addr("l")

	goSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "go %s %s", r.Host, r.URL.RequestURI())
	}))
	defer goSrv.Close()
	goURL := "http://localhost:" + port(goSrv.Listener.Addr().String())
	for i := 0; i < 2; i++ {
		body, code := curl(t, "--proxy", proxy, goURL+"/a?b=c")
		if code != "200" || body != "go localhost:"+port(goSrv.Listener.Addr().String())+" /a?b=c" {
			t.Fatalf("go server through the proxy: %s %q", code, body)
		}
	}
	ng := testenv.Nginx(t, `location / { return 200 "nginx $host$request_uri"; }`)
	body, code := curl(t, "--proxy", proxy, "http://localhost:"+port(ng.Addr())+"/n")
	if code != "200" || body != "nginx localhost/n" {
		t.Fatalf("nginx through the proxy: %s %q", code, body)
	}
	// Two names resolved once each: the second Go request used the cache.
	for name, want := range map[string]uint64{
		"dns_cache.egress_cache.dns_query_attempt": 2, "dns_cache.egress_cache.dns_query_success": 2,
		"dns_cache.egress_cache.host_added": 2,
	} {
		if got := s.Counter(name); got != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}
	if got := s.Gauge("dns_cache.egress_cache.num_hosts"); got != 2 {
		t.Errorf("num_hosts %d, want 2", got)
	}

	body, code = curl(t, "--proxy", proxy, "http://forbidden.test:"+port(goSrv.Listener.Addr().String())+"/")
	if code != "403" || body != "domain not allowed" {
		t.Fatalf("a domain not allowed: %s %q", code, body)
	}
	body, code = curl(t, "--proxy", proxy, "http://nx.invalid/")
	if code != "503" || body != "DNS resolution failure" {
		t.Fatalf("an unresolvable host: %s %q", code, body)
	}
	if got := s.Counter("dns_cache.egress_cache.dns_query_failure"); got != 1 {
		t.Errorf("dns_query_failure %d, want 1", got)
	}
	poll.Eventually(t, 5*time.Second, func() bool {
		b, _ := os.ReadFile(logPath)
		return strings.Contains(string(b), "nx.invalid 503 DF\n")
	}, "the access log shows 503 DF for nx.invalid")
}

// TestForwardProxyConnectTLS: curl --proxytunnel through the forward
// proxy's CONNECT route to a TLS server named localhost, verified end to
// end (the certificate names localhost; sluice sees ciphertext only); a
// CONNECT to a domain not allowed gets 403.
func TestForwardProxyConnectTLS(t *testing.T) {
	ca, err := testenv.NewCA("egress")
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Issue(testenv.LeafOptions{CommonName: "localhost", DNS: []string{"localhost"}})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(leaf.CertPEM, leaf.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "tls %s %s", r.Host, r.URL.Path)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	defer srv.Close()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, ca.PEM, 0o600); err != nil {
		t.Fatal(err)
	}
	s := sluicetest.Start(t, egressConfig(filepath.Join(t.TempDir(), "access.log")))
	p := port(srv.Listener.Addr().String())
	body, code := curl(t, "--proxytunnel", "--proxy", "http://"+s.Addr("l"), "--cacert", caFile, "https://localhost:"+p+"/secure")
	if code != "200" || body != "tls localhost:"+p+" /secure" {
		t.Fatalf("through the tunnel: %s %q", code, body)
	}
	s.WaitCounter("http.egress.downstream_cx_upgrades_total", 1, 5*time.Second)
	out, err := exec.Command("curl", "-sS", "--proxytunnel", "--proxy", "http://"+s.Addr("l"), "--cacert", caFile, "https://forbidden.test:"+p+"/").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "403") {
		t.Fatalf("CONNECT to a domain not allowed: %v %s", err, out)
	}
}
