package localratelimit_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
)

// upstream is a real net/http server counting requests and echoing one
// request header back.
type upstream struct {
	*httptest.Server
	hits atomic.Int64
}

func startUpstream(t *testing.T) *upstream {
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.hits.Add(1)
		w.Header().Set("X-Seen-Limited", r.Header.Get("X-Limited"))
		io.WriteString(w, "ok")
	}))
	t.Cleanup(u.Close)
	return u
}

func cfgYAML(u *upstream, filter, routes string) string {
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
            - local_ratelimit: %s
            - router: {}
clusters:
  - name: c
    connect_timeout: 1s
    endpoints: ["%s"]
`, routes, filter, strings.TrimPrefix(u.URL, "http://"))
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// A bucket of 3 tokens refilled once an hour: the 4th request is refused
// with Envoy's 429, headers and stats, and never reaches the upstream.
func TestLimitEnforced(t *testing.T) {
	u := startUpstream(t)
	s := sluicetest.Start(t, cfgYAML(u, `{stat_prefix: lrl, token_bucket: {max_tokens: 3, fill_interval: 1h},
      filter_enabled: {default_value: {numerator: 100}}, filter_enforced: {default_value: {numerator: 100}},
      enable_x_ratelimit_headers: DRAFT_VERSION_03,
      response_headers_to_add: [{header: {key: x-local-rate-limit, value: "true"}}]}`, ""))
	url := "http://" + s.Addr("l") + "/x"
	for i := 0; i < 3; i++ {
		resp, body := get(t, url)
		if resp.StatusCode != 200 || body != "ok" {
			t.Fatalf("request %d: %d %q", i, resp.StatusCode, body)
		}
		if got, want := resp.Header.Get("X-Ratelimit-Remaining"), fmt.Sprint(2-i); got != want {
			t.Fatalf("request %d: x-ratelimit-remaining %q, want %s", i, got, want)
		}
		if resp.Header.Get("X-Ratelimit-Limit") != "3" || resp.Header.Get("X-Ratelimit-Reset") == "" {
			t.Fatalf("request %d: x-ratelimit headers %v", i, resp.Header)
		}
	}
	resp, body := get(t, url)
	if resp.StatusCode != 429 || body != "local_rate_limited" {
		t.Fatalf("4th request: %d %q", resp.StatusCode, body)
	}
	if resp.Header.Get("X-Envoy-Ratelimited") != "true" || resp.Header.Get("X-Local-Rate-Limit") != "true" {
		t.Fatalf("refusal headers: %v", resp.Header)
	}
	if u.hits.Load() != 3 {
		t.Fatalf("upstream got %d requests, want 3", u.hits.Load())
	}
	for name, want := range map[string]uint64{"enabled": 4, "ok": 3, "rate_limited": 1, "enforced": 1} {
		if got := s.Counter("lrl.http_local_rate_limit." + name); got != want {
			t.Errorf("lrl.http_local_rate_limit.%s = %d, want %d", name, got, want)
		}
	}
}

// filter_enforced 0%: limited requests are counted, marked with
// request_headers_to_add_when_not_enforced and still forwarded.
func TestLimitNotEnforced(t *testing.T) {
	u := startUpstream(t)
	s := sluicetest.Start(t, cfgYAML(u, `{stat_prefix: shadow, token_bucket: {max_tokens: 1, fill_interval: 1h},
      filter_enabled: {default_value: {numerator: 100}},
      request_headers_to_add_when_not_enforced: [{header: {key: x-limited, value: "yes"}}]}`, ""))
	url := "http://" + s.Addr("l") + "/"
	if resp, _ := get(t, url); resp.StatusCode != 200 || resp.Header.Get("X-Seen-Limited") != "" {
		t.Fatalf("first: %d, upstream saw x-limited %q", resp.StatusCode, resp.Header.Get("X-Seen-Limited"))
	}
	if resp, _ := get(t, url); resp.StatusCode != 200 || resp.Header.Get("X-Seen-Limited") != "yes" {
		t.Fatalf("second: %d, upstream saw x-limited %q", resp.StatusCode, resp.Header.Get("X-Seen-Limited"))
	}
	if s.Counter("shadow.http_local_rate_limit.rate_limited") != 1 || s.Counter("shadow.http_local_rate_limit.enforced") != 0 {
		t.Fatalf("stats: rate_limited %d enforced %d", s.Counter("shadow.http_local_rate_limit.rate_limited"),
			s.Counter("shadow.http_local_rate_limit.enforced"))
	}
}

// Envoy's default: without filter_enabled the bucket is never consulted.
func TestDisabledByDefault(t *testing.T) {
	u := startUpstream(t)
	s := sluicetest.Start(t, cfgYAML(u, `{stat_prefix: off, token_bucket: {max_tokens: 1, fill_interval: 1h}}`, ""))
	for i := 0; i < 3; i++ {
		if resp, _ := get(t, "http://"+s.Addr("l")+"/"); resp.StatusCode != 200 {
			t.Fatalf("request %d: %d", i, resp.StatusCode)
		}
	}
	if got := s.Counter("off.http_local_rate_limit.enabled"); got != 0 {
		t.Fatalf("enabled = %d", got)
	}
}

// The filter has no bucket; one route carries its own in
// typed_per_filter_config (Envoy's "disabled globally, enabled per route").
func TestPerRouteBucket(t *testing.T) {
	u := startUpstream(t)
	routes := `[{match: {prefix: "/limited"}, route: {cluster: c},
      typed_per_filter_config: {local_ratelimit: {stat_prefix: route_rl, token_bucket: {max_tokens: 2, fill_interval: 1h},
        filter_enabled: {default_value: {numerator: 100}}, filter_enforced: {default_value: {numerator: 100}},
        status: {code: 503}}}},
    {match: {prefix: "/"}, route: {cluster: c}}]`
	s := sluicetest.Start(t, cfgYAML(u, `{stat_prefix: global}`, routes))
	base := "http://" + s.Addr("l")
	for i := 0; i < 2; i++ {
		if resp, _ := get(t, base+"/limited"); resp.StatusCode != 200 {
			t.Fatalf("limited route request %d: %d", i, resp.StatusCode)
		}
	}
	if resp, body := get(t, base+"/limited"); resp.StatusCode != 503 || body != "local_rate_limited" {
		t.Fatalf("limited route over the limit: %d %q", resp.StatusCode, body)
	}
	for i := 0; i < 5; i++ {
		if resp, _ := get(t, base+"/free"); resp.StatusCode != 200 {
			t.Fatalf("free route request %d: %d", i, resp.StatusCode)
		}
	}
	if got := s.Counter("route_rl.http_local_rate_limit.enforced"); got != 1 {
		t.Fatalf("route_rl enforced = %d", got)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct{ filter, want string }{
		{`{token_bucket: {max_tokens: 1, fill_interval: 1s}}`, "local_ratelimit.stat_prefix: required"},
		{`{stat_prefix: x, token_bucket: {max_tokens: 0, fill_interval: 1s}}`, "token_bucket.max_tokens: must be greater than 0"},
		{`{stat_prefix: x, token_bucket: {max_tokens: 1, fill_interval: 10ms}}`, "token_bucket.fill_interval: must be at least 50ms"},
		{`{stat_prefix: x, enable_x_ratelimit_headers: DRAFT_VERSION_99}`, "enable_x_ratelimit_headers: must be OFF or DRAFT_VERSION_03"},
		{`{stat_prefix: x, filter_enabled: {default_value: {numerator: 1, denominator: BILLION}}}`, `unknown denominator "BILLION"`},
		{`{stat_prefix: x, bogus: 1}`, "bogus"},
	} {
		_, err := config.Parse("test.yaml", []byte(cfgYAML(&upstream{Server: &httptest.Server{URL: "http://127.0.0.1:1"}}, tc.filter, "")))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.filter, err, tc.want)
		}
	}
}

// A route entry that does not decode is refused (500, logged) rather than
// letting the route run without its limit.
func TestBadPerRouteConfig(t *testing.T) {
	u := startUpstream(t)
	routes := `[{match: {prefix: "/"}, route: {cluster: c},
      typed_per_filter_config: {local_ratelimit: {stat_prefix: r, token_bucket: {max_tokens: 0, fill_interval: 1s}}}}]`
	s := sluicetest.Start(t, cfgYAML(u, `{stat_prefix: global}`, routes))
	if resp, _ := get(t, "http://"+s.Addr("l")+"/"); resp.StatusCode != 500 {
		t.Fatalf("got %d, want 500", resp.StatusCode)
	}
	if u.hits.Load() != 0 {
		t.Fatalf("upstream got %d requests", u.hits.Load())
	}
}
