package healthcheck_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/internal/poll"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
)

type upstream struct {
	*httptest.Server
	hits   atomic.Int64
	status atomic.Int64
}

func startUpstream(t *testing.T) *upstream {
	u := &upstream{}
	u.status.Store(200)
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.hits.Add(1)
		w.WriteHeader(int(u.status.Load()))
		io.WriteString(w, "upstream")
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) addr() string { return strings.TrimPrefix(u.URL, "http://") }

// listener is one listener named name whose HCM has the health_check filter.
func listener(name, filter string) string {
	return fmt.Sprintf(`
  - name: %s
    address: 127.0.0.1:0
    filters:
      - http_connection_manager:
          stat_prefix: %s
          route_config:
            virtual_hosts:
              - name: all
                domains: ["*"]
                routes: [{match: {prefix: "/"}, route: {cluster: c}}]
          http_filters:
            - health_check: %s
            - router: {}`, name, name, filter)
}

func cfgYAML(u *upstream, extraClusters string, listeners ...string) string {
	return "listeners:" + strings.Join(listeners, "") + fmt.Sprintf(`
clusters:
  - name: c
    connect_timeout: 1s
    endpoints: ["%s"]
%s`, u.addr(), extraClusters)
}

func status(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

const healthz = `{pass_through_mode: false, headers: [{name: ":path", string_match: {exact: "/healthz"}}]}`

// Answered by sluice: 200 while live, 503 after admin /healthcheck/fail.
func TestNonPassThroughFollowsAdminFail(t *testing.T) {
	u := startUpstream(t)
	s := sluicetest.Start(t, cfgYAML(u, "", listener("l", healthz)))
	base := "http://" + s.Addr("l")
	if got := status(t, base+"/healthz"); got != 200 {
		t.Fatalf("live: %d", got)
	}
	if code, _ := s.AdminPost("/healthcheck/fail"); code != 200 {
		t.Fatalf("admin fail: %d", code)
	}
	if got := status(t, base+"/healthz"); got != 503 {
		t.Fatalf("failed: %d", got)
	}
	// Other requests still go upstream.
	if got := status(t, base+"/healthz/other"); got != 200 {
		t.Fatalf("non-health request: %d", got)
	}
	s.AdminPost("/healthcheck/ok")
	if got := status(t, base+"/healthz"); got != 200 {
		t.Fatalf("ok again: %d", got)
	}
	if u.hits.Load() != 1 {
		t.Fatalf("upstream hits %d, want 1", u.hits.Load())
	}
}

// cluster_min_healthy_percentages against a cluster of one live and one
// dead host, checked by the real TCP health checker: 50% healthy passes a
// 40% minimum and fails a 60% one.
func TestClusterMinHealthy(t *testing.T) {
	u := startUpstream(t)
	hc := fmt.Sprintf(`  - name: hc
    connect_timeout: 1s
    endpoints: ["%s", "127.0.0.1:1"]
    health_checks: [{timeout: 1s, interval: 50ms, unhealthy_threshold: 1, healthy_threshold: 1, tcp_health_check: {}}]
`, u.addr())
	s := sluicetest.Start(t, cfgYAML(u, hc,
		listener("low", `{pass_through_mode: false, headers: [{name: ":path", exact_match: "/hc"}], cluster_min_healthy_percentages: {hc: {value: 40}}}`),
		listener("high", `{pass_through_mode: false, headers: [{name: ":path", exact_match: "/hc"}], cluster_min_healthy_percentages: {hc: {value: 60}}}`),
		listener("missing", `{pass_through_mode: false, headers: [{name: ":path", exact_match: "/hc"}], cluster_min_healthy_percentages: {nope: {value: 1}}}`)))
	poll.Eventually(t, 10*time.Second, func() bool {
		return s.Gauge("cluster.hc.membership_healthy") == 1 && s.Counter("cluster.hc.health_check.failure") > 0 &&
			s.Counter("cluster.hc.health_check.success") > 0
	}, "health checks did not settle to one healthy host of two")
	for l, want := range map[string]int{"low": 200, "high": 503, "missing": 503} {
		if got := status(t, "http://"+s.Addr(l)+"/hc"); got != want {
			t.Errorf("%s: %d, want %d", l, got, want)
		}
	}
}

// Pass-through with cache_time: the upstream's answer (here 503) is kept
// and served without forwarding.
func TestPassThroughCache(t *testing.T) {
	u := startUpstream(t)
	u.status.Store(503)
	s := sluicetest.Start(t, cfgYAML(u, "",
		listener("cached", `{pass_through_mode: true, cache_time: 1h, headers: [{name: x-health, present_match: true}]}`),
		listener("plain", `{pass_through_mode: true, headers: [{name: x-health, present_match: true}]}`)))
	get := func(l string) int {
		req, _ := http.NewRequest("GET", "http://"+s.Addr(l)+"/any", nil)
		req.Header.Set("X-Health", "1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	for i := 0; i < 3; i++ {
		if got := get("cached"); got != 503 {
			t.Fatalf("cached %d: %d", i, got)
		}
	}
	if u.hits.Load() != 1 {
		t.Fatalf("upstream hits %d with the cache, want 1", u.hits.Load())
	}
	u.status.Store(200)
	for i := 0; i < 2; i++ {
		if got := get("plain"); got != 200 {
			t.Fatalf("plain %d: %d", i, got)
		}
	}
	if u.hits.Load() != 3 {
		t.Fatalf("upstream hits %d, want 3", u.hits.Load())
	}
	if got := get("cached"); got != 503 {
		t.Fatalf("cache outlived: %d", got)
	}
}

func TestConfigErrors(t *testing.T) {
	u := &upstream{Server: &httptest.Server{URL: "http://127.0.0.1:1"}}
	for _, tc := range []struct{ filter, want string }{
		{`{headers: [{name: x, present_match: true}]}`, "health_check.pass_through_mode: required"},
		{`{pass_through_mode: false, cache_time: 1s}`, "cache_time: only with pass_through_mode: true"},
		{`{pass_through_mode: false, cluster_min_healthy_percentages: {c: {value: 101}}}`, "must be within [0, 100]"},
		{`{pass_through_mode: false, headers: [{name: x, safe_regex_match: {regex: "("}}]}`, "headers[0].safe_regex_match.regex: error parsing regexp"},
		{`{pass_through_mode: false, headers: [{name: x, range_match: {start: 2, end: 1}}]}`, "headers[0].range_match: start (2) must be below end (1)"},
	} {
		_, err := config.Parse("test.yaml", []byte(cfgYAML(u, "", listener("l", tc.filter))))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.filter, err, tc.want)
		}
	}
}
