package fault_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/sluice-proxy/sluice/config"
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
		io.WriteString(w, "ok")
	}))
	t.Cleanup(u.Close)
	return u
}

func cfgYAML(upstreamURL, filter, routes string) string {
	if routes == "" {
		routes = `[{match: {prefix: "/"}, route: {cluster: c}}]`
	}
	return fmt.Sprintf(`
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
                routes: %s
          http_filters:
            - fault: %s
            - router: {}
clusters:
  - name: c
    connect_timeout: 1s
    endpoints: ["%s"]
`, routes, filter, strings.TrimPrefix(upstreamURL, "http://"))
}

// do sends a GET with headers and returns the status and body.
func do(t *testing.T, ctx context.Context, url string, hdr ...string) (int, string, error) {
	return doWith(http.DefaultClient, ctx, url, hdr...)
}

// h2c is a client speaking HTTP/2 without TLS: cancelling its request
// resets the stream, which cancels the request's context in the proxy.
func h2c(t *testing.T) *http.Client {
	tr := &http2.Transport{AllowHTTP: true}
	tr.DialTLS = func(network, addr string, _ *tls.Config) (net.Conn, error) { return net.Dial(network, addr) }
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

func doWith(c *http.Client, ctx context.Context, url string, hdr ...string) (int, string, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

func mustDo(t *testing.T, url string, hdr ...string) (int, string) {
	t.Helper()
	code, body, err := do(t, context.Background(), url, hdr...)
	if err != nil {
		t.Fatal(err)
	}
	return code, body
}

func TestAbortHTTP(t *testing.T) {
	u := startUpstream(t)
	s := sluicetest.Start(t, cfgYAML(u.URL, `{abort: {http_status: 503, percentage: {numerator: 100}}}`, ""))
	for i := 0; i < 3; i++ {
		if code, body := mustDo(t, "http://"+s.Addr("l")+"/"); code != 503 || body != "fault filter abort" {
			t.Fatalf("got %d %q", code, body)
		}
	}
	if u.hits.Load() != 0 {
		t.Fatalf("upstream got %d requests", u.hits.Load())
	}
	if got := s.Counter("http.ingress.fault.aborts_injected"); got != 3 {
		t.Fatalf("aborts_injected = %d", got)
	}
}

// Header-controlled aborts, driven by curl as a client would.
func TestHeaderAbortWithCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed (.ci/deps.sh installs it)")
	}
	u := startUpstream(t)
	s := sluicetest.Start(t, cfgYAML(u.URL, `{abort: {header_abort: {}, percentage: {numerator: 100}}}`, ""))
	url := "http://" + s.Addr("l") + "/"
	for _, tc := range []struct {
		name string
		hdr  []string
		want string
	}{
		{"no header", nil, "200 ok"},
		{"abort 418", []string{"x-envoy-fault-abort-request: 418"}, "418 fault filter abort"},
		{"out of range", []string{"x-envoy-fault-abort-request: 600"}, "200 ok"},
		{"not a number", []string{"x-envoy-fault-abort-request: abc"}, "200 ok"},
		{"percentage 0", []string{"x-envoy-fault-abort-request: 500", "x-envoy-fault-abort-request-percentage: 0"}, "200 ok"},
		{"percentage 100", []string{"x-envoy-fault-abort-request: 500", "x-envoy-fault-abort-request-percentage: 100"}, "500 fault filter abort"},
	} {
		args := []string{"-sS", "-w", "%{http_code} ", "-o", "/dev/stderr", url}
		for _, h := range tc.hdr {
			args = append(args, "-H", h)
		}
		cmd := exec.Command(curl, args...)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if got := string(out) + stderr.String(); err != nil || got != tc.want {
			t.Errorf("%s: %v %q, want %q", tc.name, err, got, tc.want)
		}
	}
}

// A gRPC abort is a trailers-only response: 200 with grpc-status, here over
// HTTP/2 without TLS as gRPC clients speak it.
func TestAbortGRPC(t *testing.T) {
	u := startUpstream(t)
	s := sluicetest.Start(t, cfgYAML(u.URL, `{abort: {grpc_status: 14, percentage: {numerator: 100}}}`, ""))
	req, _ := http.NewRequest("POST", "http://"+s.Addr("l")+"/grpc.health.v1.Health/Check", strings.NewReader("\x00\x00\x00\x00\x00"))
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("Te", "trailers")
	resp, err := h2c(t).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Grpc-Status") != "14" || resp.Header.Get("Content-Type") != "application/grpc" {
		t.Fatalf("got %d %v", resp.StatusCode, resp.Header)
	}
	if u.hits.Load() != 0 {
		t.Fatalf("upstream got %d requests", u.hits.Load())
	}
}

// A header delay holds the request (active_faults counts it) until it
// elapses; a client that resets its HTTP/2 stream during the delay never
// reaches the upstream. (HTTP/1: the connection manager does not yet cancel
// a request whose client closed, so the delay runs out first.)
func TestHeaderDelay(t *testing.T) {
	u := startUpstream(t)
	s := sluicetest.Start(t, cfgYAML(u.URL, `{delay: {header_delay: {}, percentage: {numerator: 100}}, max_active_faults: 1}`, ""))
	url := "http://" + s.Addr("l") + "/"
	client := h2c(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, _, err := doWith(client, ctx, url, "x-envoy-fault-delay-request", "600000")
		done <- err
	}()
	s.WaitGauge("http.ingress.fault.active_faults", 1, 5*time.Second)
	// The cap is reached: this request's fault overflows and it passes.
	if code, _ := mustDo(t, url, "x-envoy-fault-delay-request", "600000"); code != 200 {
		t.Fatalf("overflowing request: %d", code)
	}
	if got := s.Counter("http.ingress.fault.faults_overflow"); got != 1 {
		t.Fatalf("faults_overflow = %d", got)
	}
	cancel()
	if err := <-done; err == nil {
		t.Fatal("the delayed request finished before it was cancelled")
	}
	s.WaitGauge("http.ingress.fault.active_faults", 0, 5*time.Second)
	if u.hits.Load() != 1 {
		t.Fatalf("upstream got %d requests, want only the overflowing one", u.hits.Load())
	}
	// A short delay completes and forwards.
	if code, body := mustDo(t, url, "x-envoy-fault-delay-request", "20"); code != 200 || body != "ok" {
		t.Fatalf("delayed request: %d %q", code, body)
	}
	if got := s.Counter("http.ingress.fault.delays_injected"); got != 2 {
		t.Fatalf("delays_injected = %d", got)
	}
}

// A route's typed_per_filter_config replaces the filter's config.
func TestPerRoute(t *testing.T) {
	u := startUpstream(t)
	routes := `[{match: {prefix: "/safe"}, route: {cluster: c}, typed_per_filter_config: {fault: {}}},
    {match: {prefix: "/teapot"}, route: {cluster: c},
      typed_per_filter_config: {envoy.filters.http.fault: {abort: {http_status: 418, percentage: {numerator: 100}}}}},
    {match: {prefix: "/"}, route: {cluster: c}}]`
	s := sluicetest.Start(t, cfgYAML(u.URL, `{abort: {http_status: 502, percentage: {numerator: 100}}}`, routes))
	base := "http://" + s.Addr("l")
	for path, want := range map[string]int{"/safe": 200, "/teapot": 418, "/other": 502} {
		if code, _ := mustDo(t, base+path); code != want {
			t.Errorf("%s: %d, want %d", path, code, want)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct{ filter, want string }{
		{`{abort: {percentage: {numerator: 1}}}`, "fault.abort: exactly one of http_status, grpc_status and header_abort"},
		{`{abort: {http_status: 700}}`, "fault.abort.http_status: must be in [200, 600)"},
		{`{delay: {percentage: {numerator: 1}}}`, "fault.delay: exactly one of fixed_delay and header_delay"},
		{`{delay: {fixed_delay: 1s, percentage: {numerator: 1, denominator: BILLION}}}`, `unknown denominator "BILLION"`},
		{`{delay: {fixed_delay: 1s}, bogus: 1}`, "bogus"},
	} {
		_, err := config.Parse("test.yaml", []byte(cfgYAML("http://127.0.0.1:1", tc.filter, "")))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.filter, err, tc.want)
		}
	}
}

// headers restrict faults to matching requests.
func TestHeadersMatch(t *testing.T) {
	u := startUpstream(t)
	s := sluicetest.Start(t, cfgYAML(u.URL, `{abort: {http_status: 503, percentage: {numerator: 100}},
      headers: [{name: x-chaos, exact_match: "on"}, {name: ":path", string_match: {prefix: "/api"}}]}`, ""))
	base := "http://" + s.Addr("l")
	for _, tc := range []struct {
		path string
		hdr  []string
		want int
	}{
		{"/api/x", []string{"x-chaos", "on"}, 503},
		{"/api/x", nil, 200},
		{"/api/x", []string{"x-chaos", "off"}, 200},
		{"/web", []string{"x-chaos", "on"}, 200},
	} {
		if code, _ := mustDo(t, base+tc.path, tc.hdr...); code != tc.want {
			t.Errorf("%s %v: %d, want %d", tc.path, tc.hdr, code, tc.want)
		}
	}
}

// TestHeaderKinds: fault's header matchers are the router's (every kind,
// Envoy's absent-header rule): a range match, and an inverted string match
// that an absent header does not satisfy (only present_match does).
func TestHeaderKinds(t *testing.T) {
	u := startUpstream(t)
	s := sluicetest.Start(t, cfgYAML(u.URL, `{abort: {http_status: 503, percentage: {numerator: 100}},
      headers: [{name: x-n, range_match: {start: 1, end: 10}}, {name: x-skip, string_match: {exact: "yes"}, invert_match: true}]}`, ""))
	base := "http://" + s.Addr("l")
	for _, tc := range []struct {
		hdr  []string
		want int
	}{
		{[]string{"x-n", "5", "x-skip", "no"}, 503},
		{[]string{"x-n", "5", "x-skip", "yes"}, 200},
		{[]string{"x-n", "5"}, 200}, // absent x-skip: the inverted string match fails
		{[]string{"x-n", "10", "x-skip", "no"}, 200},
		{[]string{"x-n", "x", "x-skip", "no"}, 200},
	} {
		if code, _ := mustDo(t, base+"/", tc.hdr...); code != tc.want {
			t.Errorf("%v: %d, want %d", tc.hdr, code, tc.want)
		}
	}
}
