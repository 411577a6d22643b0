package integration

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/internal/poll"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// httpsUpstream starts a Go net/http server with the PKI's server
// certificate that requires a client certificate signed by the CA and
// answers with the protocol, SNI and client CN it saw. alpn is what it
// accepts (h2 enables HTTP/2).
func httpsUpstream(t *testing.T, p *pki, alpn ...string) *httptest.Server {
	t.Helper()
	cert, err := tls.LoadX509KeyPair(p.srvCert, p.srvKey)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(p.ca.PEM)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cn := ""
		if len(r.TLS.PeerCertificates) > 0 {
			cn = r.TLS.PeerCertificates[0].Subject.CommonName
		}
		fmt.Fprintf(w, "%s sni=%s cn=%s", r.Proto, r.TLS.ServerName, cn)
	}))
	srv.EnableHTTP2 = len(alpn) > 0 && alpn[0] == "h2"
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: alpn,
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: roots}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// TestHTTPUpstreamTLS: http_connection_manager sends requests over the
// clusters' tls blocks (server verified against the CA and its SAN, a
// client certificate presented) to an HTTP/1.1-only and an h2 server.
// auto_config follows the negotiated ALPN, explicit_http_config forces
// HTTP/2; a cluster whose CA does not sign the server counts
// ssl.fail_verify_error and answers 503 UF.
func TestHTTPUpstreamTLS(t *testing.T) {
	p := newPKI(t)
	h1 := httpsUpstream(t, p, "http/1.1")
	h2 := httpsUpstream(t, p, "h2", "http/1.1")
	otherCA, err := testenv.NewCA("not the server's CA")
	if err != nil {
		t.Fatal(err)
	}
	other := writeTemp(t, "other-ca.pem", otherCA.PEM)
	logFile := t.TempDir() + "/access.log"
	const hpo = `
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
`
	auto := hpo + `        auto_config: {http_protocol_options: {}, http2_protocol_options: {}}`
	explicitH2 := hpo + `        explicit_http_config: {http2_protocol_options: {}}`
	s := sluicetest.Start(t, fmt.Sprintf(`
listeners:
  - name: l
    address: 127.0.0.1:0
    filters:
      - http_connection_manager:
          stat_prefix: ingress
          access_log: [{path: %[1]s, json_format: {path: "%%REQ(:PATH)%%", code: "%%RESPONSE_CODE%%", flags: "%%RESPONSE_FLAGS%%"}}]
          route_config:
            virtual_hosts:
              - name: all
                domains: ["*"]
                routes:
                  - {match: {path: /h1}, route: {cluster: h1auto}}
                  - {match: {path: /h2}, route: {cluster: h2auto}}
                  - {match: {path: /h2x}, route: {cluster: h2explicit}}
                  - {match: {path: /h1x}, route: {cluster: h1default}}
                  - {match: {path: /wrong}, route: {cluster: wrong}}
                  - {match: {path: /auto-sni}, route: {cluster: autosni}}
clusters:
  - name: h1auto
    endpoints: ["%[2]s"]
    tls: %[4]s%[6]s
  - name: h2auto
    endpoints: ["%[3]s"]
    tls: %[4]s%[6]s
  - name: h2explicit
    endpoints: ["%[3]s"]
    tls: %[4]s%[7]s
  - name: h1default
    endpoints: ["%[3]s"]
    tls: %[4]s
  - name: wrong
    endpoints: ["%[3]s"]
    tls: {sni: localhost, common_tls_context: {validation_context: {trusted_ca: {filename: %[5]s}}}}
  - name: autosni
    endpoints: ["%[3]s"]
    tls: {common_tls_context: {tls_certificates: [{certificate_chain: {filename: %[9]s}, private_key: {filename: %[10]s}}], validation_context: {trusted_ca: {filename: %[8]s}}}}%[11]s
`, logFile, h1.Listener.Addr(), h2.Listener.Addr(), p.upstreamTLS("localhost"), other, auto, explicitH2,
		p.caFile, p.clients["good"][0], p.clients["good"][1], auto+`
        upstream_http_protocol_options: {auto_sni: true, auto_san_validation: true}`))

	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get("http://" + s.Addr("l") + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, c := range []struct{ path, want string }{
		{"/h1", "HTTP/1.1 sni=localhost cn=app"},  // auto_config, server offers only http/1.1
		{"/h2", "HTTP/2.0 sni=localhost cn=app"},  // auto_config, server prefers h2
		{"/h2x", "HTTP/2.0 sni=localhost cn=app"}, // explicit HTTP/2
		{"/h1x", "HTTP/1.1 sni=localhost cn=app"}, // no protocol options: HTTP/1.1, offered as such
	} {
		if code, body := get(c.path); code != 200 || body != c.want {
			t.Errorf("GET %s: %d %q, want 200 %q", c.path, code, body, c.want)
		}
	}
	for name, v := range map[string]uint64{
		"cluster.h1auto.upstream_cx_http1_total":     1,
		"cluster.h2auto.upstream_cx_http2_total":     1,
		"cluster.h2explicit.upstream_cx_http2_total": 1,
		"cluster.h1default.upstream_cx_http1_total":  1,
		"cluster.h2auto.ssl.handshake":               1,
	} {
		if got := s.Counter(name); got < v {
			t.Errorf("%s = %d, want >= %d", name, got, v)
		}
	}

	// auto_sni: the SNI is the request's Host, and with auto_san_validation
	// the server's certificate must be valid for it.
	getHost := func(host string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://"+s.Addr("l")+"/auto-sni", nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET /auto-sni Host %s: %v", host, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := getHost("localhost:8443"); code != 200 || body != "HTTP/2.0 sni=localhost cn=app" {
		t.Errorf("auto_sni, Host localhost: %d %q", code, body)
	}
	if code, body := getHost("elsewhere.example"); code != http.StatusServiceUnavailable {
		t.Errorf("auto_san_validation, Host elsewhere.example: %d %q, want 503", code, body)
	}
	s.WaitCounter("cluster.autosni.ssl.fail_verify_san", 1, 5*time.Second)

	code, body := get("/wrong")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "connection failure") {
		t.Fatalf("GET /wrong: %d %q, want 503 connection failure", code, body)
	}
	s.WaitCounter("cluster.wrong.ssl.fail_verify_error", 1, 5*time.Second)
	poll.Eventually(t, 5*time.Second, func() bool {
		b, _ := os.ReadFile(logFile)
		return strings.Contains(string(b), `{"code":503,"flags":"UF","path":"/wrong"}`)
	}, "no access log line with 503 UF for /wrong")
}
