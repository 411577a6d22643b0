package localratelimit_test

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
)

// TestDescriptors: the route's rate_limits actions select descriptor
// buckets: each user (x-user) has 2 tokens, the premium user 4, and every
// request also takes from the 10-token default bucket; a route without
// rate_limits only uses the default bucket.
func TestDescriptors(t *testing.T) {
	u := startUpstream(t)
	routes := `[{match: {prefix: "/api"}, route: {cluster: c, rate_limits: [{actions: [{request_headers: {header_name: x-user, descriptor_key: user}}]}]}},
      {match: {prefix: "/"}, route: {cluster: c}}]`
	s := sluicetest.Start(t, cfgYAML(u, `{stat_prefix: lrl, token_bucket: {max_tokens: 10, fill_interval: 1h},
      filter_enabled: {default_value: {numerator: 100}}, filter_enforced: {default_value: {numerator: 100}},
      descriptors: [
        {entries: [{key: user, value: alice}], token_bucket: {max_tokens: 2, fill_interval: 1h}},
        {entries: [{key: user, value: premium}], token_bucket: {max_tokens: 4, fill_interval: 1h}}]}`, routes))
	base := "http://" + s.Addr("l")
	do := func(path, user string) int {
		req, _ := http.NewRequest("GET", base+path, nil)
		if user != "" {
			req.Header.Set("X-User", user)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for i, c := range []struct {
		path, user string
		code       int
	}{
		{"/api", "alice", 200}, {"/api", "alice", 200}, {"/api", "alice", 429}, // alice's 2 (default: 2 used)
		{"/api", "premium", 200}, {"/api", "premium", 200}, {"/api", "premium", 200}, {"/api", "premium", 200},
		{"/api", "premium", 429},                                                            // premium's 4 (default: 6 used)
		{"/api", "bob", 200}, {"/other", "", 200}, {"/other", "", 200}, {"/other", "", 200}, // default: 10 used
		{"/other", "", 429}, {"/api", "bob", 429},
	} {
		if got := do(c.path, c.user); got != c.code {
			t.Fatalf("%d %s %s: %d, want %d", i, c.path, c.user, got, c.code)
		}
	}
	if got := s.Counter("lrl.http_local_rate_limit.rate_limited"); got != 4 {
		t.Fatalf("rate_limited = %d", got)
	}
}

// TestEnvoyDescriptors: descriptors and route rate_limits through the
// Envoy loader (Envoy's documented descriptor example, in short).
func TestEnvoyDescriptors(t *testing.T) {
	u := startUpstream(t)
	host, port, _ := net.SplitHostPort(u.Listener.Addr().String())
	y := fmt.Sprintf(envoyBootstrap, host, port)
	y = strings.Replace(y, `              - match: {prefix: "/limited"}
                route: {cluster: c}`, `              - match: {prefix: "/limited"}
                route:
                  cluster: c
                  rate_limits: [{actions: [{request_headers: {header_name: x-user, descriptor_key: user}}]}]`, 1)
	y = strings.Replace(y, `                    token_bucket: {max_tokens: 1, tokens_per_fill: 1, fill_interval: 3600s}`, `                    token_bucket: {max_tokens: 100, tokens_per_fill: 100, fill_interval: 3600s}
                    descriptors:
                    - entries: [{key: user, value: carol}]
                      token_bucket: {max_tokens: 1, tokens_per_fill: 1, fill_interval: 3600s}`, 1)
	s := sluicetest.StartEnvoy(t, y)
	for i, want := range []int{200, 503} {
		req, _ := http.NewRequest("GET", "http://"+s.Addr("l")+"/limited", nil)
		req.Header.Set("X-User", "carol")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("%d: %d, want %d", i, resp.StatusCode, want)
		}
	}
	if resp, _ := get(t, "http://"+s.Addr("l")+"/limited"); resp.StatusCode != 200 {
		t.Fatalf("without x-user: %d", resp.StatusCode)
	}
}
