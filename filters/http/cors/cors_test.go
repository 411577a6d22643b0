package cors_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
)

type upstream struct {
	*httptest.Server
	hits atomic.Int64
}

func startUpstream(t *testing.T) *upstream {
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.hits.Add(1)
		io.WriteString(w, "ok "+r.Method)
	}))
	t.Cleanup(u.Close)
	return u
}

// policyRoutes: /api has a policy on the route, /open one allowing any
// origin in shadow mode only, and everything else the virtual host's.
const sluiceConfig = `
listeners:
  - name: l
    address: 127.0.0.1:0
    filters:
      - http_connection_manager:
          stat_prefix: ingress
          route_config:
            virtual_hosts:
              - name: all
                domains: ["*"]
                typed_per_filter_config:
                  cors: {allow_origin_string_match: [{exact: "https://vhost.example"}]}
                routes:
                  - match: {prefix: "/api"}
                    route: {cluster: c}
                    typed_per_filter_config:
                      cors:
                        allow_origin_string_match: [{exact: "https://app.example"}, {safe_regex: {regex: "https://[a-z]+\\.test\\.example"}}]
                        allow_methods: "GET, POST, PUT"
                        allow_headers: "content-type, x-token"
                        expose_headers: "x-trace"
                        max_age: "600"
                        allow_credentials: true
                  - match: {prefix: "/shadow"}
                    route: {cluster: c}
                    typed_per_filter_config:
                      cors:
                        allow_origin_string_match: [{exact: "https://app.example"}]
                        filter_enabled: {default_value: {numerator: 0}}
                        shadow_enabled: {default_value: {numerator: 100}}
                  - match: {prefix: "/"}
                    route: {cluster: c}
          http_filters:
            - cors: {}
            - router: {}
clusters:
  - name: c
    connect_timeout: 1s
    endpoints: ["%s"]
`

func start(t *testing.T) (*sluicetest.Sluice, *upstream) {
	u := startUpstream(t)
	return sluicetest.Start(t, fmt.Sprintf(sluiceConfig, strings.TrimPrefix(u.URL, "http://"))), u
}

func send(t *testing.T, method, url string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// A preflight from an allowed origin is answered by sluice (curl plays the
// browser); the upstream never sees it.
func TestPreflightWithCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed (.ci/deps.sh installs it)")
	}
	s, u := start(t)
	out, err := exec.Command(curl, "-sS", "-i", "-X", "OPTIONS", "http://"+s.Addr("l")+"/api/items",
		"-H", "Origin: https://shop.test.example", "-H", "Access-Control-Request-Method: PUT",
		"-H", "Access-Control-Request-Headers: x-token").Output()
	if err != nil {
		t.Fatal(err)
	}
	got := strings.ToLower(string(out))
	for _, want := range []string{"http/1.1 200", "access-control-allow-origin: https://shop.test.example",
		"access-control-allow-methods: get, post, put", "access-control-allow-headers: content-type, x-token",
		"access-control-max-age: 600", "access-control-allow-credentials: true"} {
		if !strings.Contains(got, want) {
			t.Errorf("preflight response lacks %q:\n%s", want, out)
		}
	}
	if u.hits.Load() != 0 {
		t.Fatalf("upstream saw the preflight")
	}
	if got := s.Counter("http.ingress.cors.origin_valid"); got != 1 {
		t.Fatalf("origin_valid = %d", got)
	}
}

func TestSimpleRequests(t *testing.T) {
	s, u := start(t)
	base := "http://" + s.Addr("l")
	// Allowed origin: forwarded, with allow-origin and expose-headers.
	resp, body := send(t, "GET", base+"/api/x", "Origin", "https://app.example")
	if body != "ok GET" || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example" ||
		resp.Header.Get("Access-Control-Expose-Headers") != "x-trace" || resp.Header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Fatalf("allowed origin: %q %v", body, resp.Header)
	}
	// Not allowed: forwarded without CORS headers, counted invalid.
	resp, body = send(t, "GET", base+"/api/x", "Origin", "https://evil.example")
	if body != "ok GET" || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("bad origin: %q %v", body, resp.Header)
	}
	// A preflight from a bad origin is forwarded (forward_not_matching_preflights).
	if _, body = send(t, "OPTIONS", base+"/api/x", "Origin", "https://evil.example", "Access-Control-Request-Method", "GET"); body != "ok OPTIONS" {
		t.Fatalf("bad-origin preflight: %q", body)
	}
	// No Origin: not a CORS request, not counted.
	if resp, _ = send(t, "GET", base+"/api/x"); resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("no origin: %v", resp.Header)
	}
	// The virtual host's policy applies to routes without their own.
	if resp, _ = send(t, "GET", base+"/other", "Origin", "https://vhost.example"); resp.Header.Get("Access-Control-Allow-Origin") != "https://vhost.example" {
		t.Fatalf("vhost policy: %v", resp.Header)
	}
	if v, i := s.Counter("http.ingress.cors.origin_valid"), s.Counter("http.ingress.cors.origin_invalid"); v != 2 || i != 2 {
		t.Fatalf("origin_valid %d origin_invalid %d, want 2 2", v, i)
	}
	if u.hits.Load() != 5 {
		t.Fatalf("upstream hits %d, want 5", u.hits.Load())
	}
}

// Shadow mode counts the origin but neither answers preflights nor adds
// headers.
func TestShadow(t *testing.T) {
	s, _ := start(t)
	resp, body := send(t, "OPTIONS", "http://"+s.Addr("l")+"/shadow", "Origin", "https://app.example", "Access-Control-Request-Method", "GET")
	if body != "ok OPTIONS" || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("shadow: %q %v", body, resp.Header)
	}
	if got := s.Counter("http.ingress.cors.origin_valid"); got != 1 {
		t.Fatalf("origin_valid = %d", got)
	}
}
