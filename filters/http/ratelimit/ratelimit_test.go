package ratelimit_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	rlsv3 "github.com/envoyproxy/go-control-plane/envoy/service/ratelimit/v3"
	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	_ "github.com/sluice-proxy/sluice/filters/http/ratelimit"
	_ "github.com/sluice-proxy/sluice/filters/httpconn"
	"github.com/sluice-proxy/sluice/internal/poll"
	"github.com/sluice-proxy/sluice/internal/ratelimittest"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// TestMain fails the package's tests if a goroutine outlives them.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const minute = rlsv3.RateLimitResponse_RateLimit_MINUTE

// limits is the service's config for domain edge, in the shape of Envoy's
// ratelimit service YAML.
var limits = map[string][]ratelimittest.Descriptor{"edge": {
	{Key: "user", RequestsPerUnit: 2, Unit: minute},
	{Key: "user", Value: "vip", RequestsPerUnit: 100, Unit: minute},
	{Key: "generic_key", Value: "api", Descriptors: []ratelimittest.Descriptor{
		{Key: "destination_cluster", RequestsPerUnit: 5, Unit: minute}}},
	{Key: "header_match", Value: "bots", RequestsPerUnit: 1, Unit: minute},
	{Key: "remote_address", RequestsPerUnit: 3, Unit: minute},
}}

func sluiceConfig(up, rls, filter string) string {
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
                routes:
                  - match: {prefix: /api}
                    route:
                      cluster: c
                      rate_limits:
                        - actions: [{request_headers: {header_name: x-user, descriptor_key: user}}]
                        - actions: [{generic_key: {descriptor_value: api}}, {destination_cluster: {}}]
                  - match: {prefix: /hv}
                    route:
                      cluster: c
                      rate_limits:
                        - actions: [{header_value_match: {descriptor_value: bots, headers: [{name: user-agent, string_match: {prefix: bot}}]}}]
                  - match: {prefix: /ip}
                    route:
                      cluster: c
                      rate_limits: [{actions: [{remote_address: {}}]}]
                  - match: {prefix: /stage1}
                    route:
                      cluster: c
                      rate_limits: [{stage: 1, actions: [{remote_address: {}}]}]
                  - match: {prefix: "/"}
                    route: {cluster: c}
          http_filters:
            - ratelimit:
%s
            - router: {}
clusters:
  - name: c
    connect_timeout: 1s
    endpoints: ["%s"]
  - name: rls
    connect_timeout: 1s
    endpoints: ["%s"]
`, filter, strings.TrimPrefix(up, "http://"), rls)
}

const filterYAML = `                domain: edge
                timeout: 5s
                enable_x_ratelimit_headers: DRAFT_VERSION_03
                rate_limit_service: {grpc_service: {envoy_grpc: {cluster_name: rls}}, transport_api_version: V3}`

func upstream(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var hits atomic.Int64
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = io.WriteString(w, "ok")
	}))
	t.Cleanup(up.Close)
	return up, &hits
}

func get(t *testing.T, url string, hdr map[string]string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// TestRateLimitService: descriptors from request_headers, generic_key +
// destination_cluster, header_value_match and remote_address are counted
// in redis by the rate limit service; OVER_LIMIT is Envoy's 429 with
// x-envoy-ratelimited; x-ratelimit-* come from the closest limit; routes
// without rate_limits (or of another stage) never call the service.
func TestRateLimitService(t *testing.T) {
	rd := testenv.Redis(t, testenv.RedisArgs("--save", ""))
	rls, err := ratelimittest.Start(rd.Addr(), limits)
	if err != nil {
		t.Fatal(err)
	}
	defer rls.Stop()
	fixed := time.Now()
	rls.Now = func() time.Time { return fixed } // one window for the whole test
	up, hits := upstream(t)
	s := sluicetest.Start(t, sluiceConfig(up.URL, rls.Addr(), filterYAML))
	base := "http://" + s.Addr("l")
	alice, vip := map[string]string{"x-user": "alice"}, map[string]string{"x-user": "vip"}
	for i, c := range []struct {
		path          string
		hdr           map[string]string
		code          int
		remaining     string
		limit         string
		fromTheClient bool
	}{
		{"/api/a", alice, 200, "1", "2, 2;w=60, 5;w=60", false},
		{"/api/a", alice, 200, "0", "2, 2;w=60, 5;w=60", false},
		{"/api/a", alice, 429, "0", "2, 2;w=60, 5;w=60", false},
		{"/api/a", vip, 200, "1", "5, 100;w=60, 5;w=60", false},
		{"/api/a", vip, 200, "0", "5, 100;w=60, 5;w=60", false},
		{"/api/a", vip, 429, "0", "5, 100;w=60, 5;w=60", false},
		{"/api/a", nil, 429, "0", "5, 5;w=60", false}, // no x-user: only the api descriptor
		{"/hv", map[string]string{"user-agent": "bot-1"}, 200, "0", "1, 1;w=60", false},
		{"/hv", map[string]string{"user-agent": "bot-2"}, 429, "0", "1, 1;w=60", false},
		{"/hv", map[string]string{"user-agent": "curl"}, 200, "", "", true},
		{"/ip", nil, 200, "2", "3, 3;w=60", false},
		{"/ip", nil, 200, "1", "3, 3;w=60", false},
		{"/ip", nil, 200, "0", "3, 3;w=60", false},
		{"/ip", nil, 429, "0", "3, 3;w=60", false},
		{"/stage1", nil, 200, "", "", true},
		{"/other", nil, 200, "", "", true},
	} {
		before := rls.Calls.Load()
		resp := get(t, base+c.path, c.hdr)
		if resp.StatusCode != c.code {
			t.Fatalf("%d %s: %d, want %d", i, c.path, resp.StatusCode, c.code)
		}
		if got := resp.Header.Get("X-Ratelimit-Remaining"); got != c.remaining {
			t.Errorf("%d %s: x-ratelimit-remaining %q, want %q", i, c.path, got, c.remaining)
		}
		if got := resp.Header.Get("X-Ratelimit-Limit"); got != c.limit {
			t.Errorf("%d %s: x-ratelimit-limit %q, want %q", i, c.path, got, c.limit)
		}
		if limited := resp.Header.Get("X-Envoy-Ratelimited") == "true"; limited != (c.code == 429) {
			t.Errorf("%d %s: x-envoy-ratelimited %v", i, c.path, resp.Header)
		}
		if called := rls.Calls.Load() != before; called == c.fromTheClient {
			t.Errorf("%d %s: service called %v", i, c.path, called)
		}
	}
	// curl, a real client, is refused too.
	out, err := exec.Command("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "x-user: alice", base+"/api/x").Output()
	if err != nil || string(out) != "429" {
		t.Fatalf("curl: %s %v", out, err)
	}
	if hits.Load() != 11 {
		t.Errorf("upstream hits %d, want 11", hits.Load())
	}
	for name, want := range map[string]uint64{"cluster.rls.ratelimit.ok": 8, "cluster.rls.ratelimit.over_limit": 6, "cluster.rls.ratelimit.error": 0} {
		if got := s.Counter(name); got != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}
	// The counts live in redis, one key per descriptor and window.
	rc := redis.NewClient(&redis.Options{Addr: rd.Addr()})
	defer rc.Close()
	window := fixed.Unix() / 60 * 60
	if n, err := rc.Get(context.Background(), fmt.Sprintf("edge_user_alice_%d", window)).Int(); err != nil || n != 4 {
		t.Fatalf("redis count of alice: %d %v", n, err)
	}
}

// TestServiceFails: a service that does not answer is given up at the
// timeout: the request passes (failure_mode_allowed), or is answered 500
// with failure_mode_deny.
func TestServiceFails(t *testing.T) {
	rd := testenv.Redis(t, testenv.RedisArgs("--save", ""))
	rls, err := ratelimittest.Start(rd.Addr(), limits)
	if err != nil {
		t.Fatal(err)
	}
	defer rls.Stop()
	rls.Hang.Store(true)
	up, _ := upstream(t)
	for _, tc := range []struct {
		extra   string
		code    int
		counter string
	}{
		{"", 200, "cluster.rls.ratelimit.failure_mode_allowed"},
		{"\n                failure_mode_deny: true", 500, "cluster.rls.ratelimit.error"},
	} {
		cfg := strings.Replace(filterYAML, "timeout: 5s", "timeout: 0.2s", 1) + tc.extra
		s := sluicetest.Start(t, sluiceConfig(up.URL, rls.Addr(), cfg))
		if resp := get(t, "http://"+s.Addr("l")+"/ip", nil); resp.StatusCode != tc.code {
			t.Fatalf("%q: %d, want %d", tc.extra, resp.StatusCode, tc.code)
		}
		if got := s.Counter(tc.counter); got != 1 {
			t.Fatalf("%s = %d", tc.counter, got)
		}
	}
}

const envoyBootstrap = `
static_resources:
  listeners:
  - name: l
    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              rate_limits:
              - actions: [{remote_address: {}}]
              routes:
              - match: {prefix: "/api"}
                route:
                  cluster: c
                  rate_limits:
                  - actions:
                    - request_headers: {header_name: x-user, descriptor_key: user}
              - match: {prefix: "/"}
                route: {cluster: c}
          http_filters:
          - name: envoy.filters.http.ratelimit
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.ratelimit.v3.RateLimit
              domain: edge
              timeout: 5s
              enable_x_ratelimit_headers: DRAFT_VERSION_03
              rate_limited_status: {code: ServiceUnavailable}
              rate_limit_service:
                grpc_service: {envoy_grpc: {cluster_name: ratelimit}}
                transport_api_version: V3
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: c
    connect_timeout: 1s
    load_assignment:
      cluster_name: c
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %s}}}}]}]
  - name: ratelimit
    connect_timeout: 1s
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: {http2_protocol_options: {}}
    load_assignment:
      cluster_name: ratelimit
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %s}}}}]}]
`

// TestEnvoyConfig: Envoy's bootstrap with route and virtual host
// rate_limits (the virtual host's apply to routes without their own).
func TestEnvoyConfig(t *testing.T) {
	rd := testenv.Redis(t, testenv.RedisArgs("--save", ""))
	rls, err := ratelimittest.Start(rd.Addr(), limits)
	if err != nil {
		t.Fatal(err)
	}
	defer rls.Stop()
	fixed := time.Now()
	rls.Now = func() time.Time { return fixed }
	up, _ := upstream(t)
	upPort := up.URL[strings.LastIndex(up.URL, ":")+1:]
	rlsPort := rls.Addr()[strings.LastIndex(rls.Addr(), ":")+1:]
	s := sluicetest.StartEnvoy(t, fmt.Sprintf(envoyBootstrap, upPort, rlsPort))
	base := "http://" + s.Addr("l")
	for i, want := range []int{200, 200, 503} {
		if resp := get(t, base+"/api", map[string]string{"x-user": "carol"}); resp.StatusCode != want {
			t.Fatalf("api %d: %d, want %d", i, resp.StatusCode, want)
		}
	}
	for i, want := range []int{200, 200, 200, 503} {
		if resp := get(t, base+"/other", nil); resp.StatusCode != want {
			t.Fatalf("other %d: %d, want %d", i, resp.StatusCode, want)
		}
	}
	if got := s.Counter("cluster.ratelimit.ratelimit.over_limit"); got != 2 {
		t.Fatalf("over_limit = %d", got)
	}
}

// TestResponseFlags: the access log shows Envoy's RL for a limited request
// and RLSE for a failed call under failure_mode_deny.
func TestResponseFlags(t *testing.T) {
	rd := testenv.Redis(t, testenv.RedisArgs("--save", ""))
	rls, err := ratelimittest.Start(rd.Addr(), limits)
	if err != nil {
		t.Fatal(err)
	}
	defer rls.Stop()
	fixed := time.Now()
	rls.Now = func() time.Time { return fixed }
	up, _ := upstream(t)
	logPath := filepath.Join(t.TempDir(), "access.log")
	withLog := func(cfg string) string {
		return strings.Replace(cfg, "stat_prefix: ingress", "stat_prefix: ingress\n          access_log: [{path: "+logPath+", format: \"%REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS%\\n\"}]", 1)
	}
	s := sluicetest.Start(t, withLog(sluiceConfig(up.URL, rls.Addr(), filterYAML+"\n                failure_mode_deny: true")))
	base := "http://" + s.Addr("l")
	get(t, base+"/hv", map[string]string{"user-agent": "bot-1"})
	get(t, base+"/hv", map[string]string{"user-agent": "bot-2"})
	rls.Hang.Store(true)
	s2 := sluicetest.Start(t, withLog(sluiceConfig(up.URL, rls.Addr(), strings.Replace(filterYAML, "timeout: 5s", "timeout: 0.2s", 1)+"\n                failure_mode_deny: true")))
	get(t, "http://"+s2.Addr("l")+"/ip", nil)
	// Two servers share the file: compare the lines as a set.
	want := "/hv 200 -\n/hv 429 RL\n/ip 500 RLSE"
	var got string
	poll.Eventually(t, 5*time.Second, func() bool {
		b, _ := os.ReadFile(logPath)
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		sort.Strings(lines)
		got = strings.Join(lines, "\n")
		return got == want
	}, "access log %q, want %q", got, want)
}
