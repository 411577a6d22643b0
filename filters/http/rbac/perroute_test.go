package httprbac_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
)

const perRouteYAML = `
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
                  - match: {prefix: /open}
                    route: {cluster: c}
                    typed_per_filter_config: {rbac: {}}
                  - match: {prefix: /strict}
                    route: {cluster: c}
                    typed_per_filter_config:
                      envoy.filters.http.rbac:
                        rbac:
                          rules_stat_prefix: strict.
                          track_per_rule_stats: true
                          rules:
                            action: ALLOW
                            policies:
                              admins: {permissions: [{any: true}], principals: [{header: {name: x-admin, present_match: true}}]}
                  - match: {prefix: "/"}
                    route: {cluster: c}
          http_filters:
            - rbac:
                track_per_rule_stats: true
                rules:
                  action: ALLOW
                  policies:
                    office: {permissions: [{any: true}], principals: [{remote_ip: {address_prefix: 203.0.113.0, prefix_len: 24}}]}
                shadow_rules:
                  action: DENY
                  policies:
                    direct-local: {permissions: [{any: true}], principals: [{direct_remote_ip: {address_prefix: 127.0.0.0, prefix_len: 8}}]}
            - router: {}
clusters:
  - name: c
    connect_timeout: 1s
    endpoints: ["%s"]
`

// TestRBACPerRouteAndXFF: remote_ip is the trusted client of
// x-forwarded-for (its right-most entry) while direct_remote_ip stays the
// peer; a route's RBACPerRoute without rbac turns the filter off, one with
// rbac replaces the rules; track_per_rule_stats counts the deciding
// policy, shadow rules included.
func TestRBACPerRouteAndXFF(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") }))
	defer up.Close()
	s := sluicetest.Start(t, fmt.Sprintf(perRouteYAML, strings.TrimPrefix(up.URL, "http://")))
	base := "http://" + s.Addr("l")
	for i, c := range []struct {
		path, xff, admin string
		code             int
	}{
		{"/a", "198.51.100.7, 203.0.113.9", "", 200},
		{"/a", "203.0.113.9, 198.51.100.7", "", 403},
		{"/a", "", "", 403},
		{"/open", "", "", 200},
		{"/strict", "203.0.113.9", "", 403},
		{"/strict", "", "yes", 200},
	} {
		req, _ := http.NewRequest("GET", base+c.path, nil)
		if c.xff != "" {
			req.Header.Set("X-Forwarded-For", c.xff)
		}
		if c.admin != "" {
			req.Header.Set("X-Admin", c.admin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.code {
			t.Errorf("%d %s xff=%q: %d, want %d", i, c.path, c.xff, resp.StatusCode, c.code)
		}
	}
	for name, want := range map[string]uint64{
		"http.ingress.rbac.allowed": 1, "http.ingress.rbac.denied": 2,
		"http.ingress.rbac.policy.office.allowed":             1,
		"http.ingress.rbac.shadow_denied":                     3,
		"http.ingress.rbac.policy.direct-local.shadow_denied": 3,
		"http.ingress.rbac.strict.allowed":                    1, "http.ingress.rbac.strict.denied": 1,
		"http.ingress.rbac.strict.policy.admins.allowed": 1,
	} {
		if got := s.Counter(name); got != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}
}

// TestEnvoyPerRoute: RBACPerRoute and track_per_rule_stats through the
// Envoy loader.
func TestEnvoyPerRoute(t *testing.T) {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") }))
	defer up.Close()
	port := up.URL[strings.LastIndex(up.URL, ":")+1:]
	s := sluicetest.StartEnvoy(t, fmt.Sprintf(`
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
              routes:
              - match: {prefix: "/open"}
                route: {cluster: c}
                typed_per_filter_config:
                  envoy.filters.http.rbac:
                    "@type": type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBACPerRoute
              - match: {prefix: "/"}
                route: {cluster: c}
          http_filters:
          - name: envoy.filters.http.rbac
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC
              track_per_rule_stats: true
              rules:
                action: DENY
                policies:
                  everyone: {permissions: [{any: true}], principals: [{any: true}]}
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: c
    connect_timeout: 1s
    load_assignment:
      cluster_name: c
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %s}}}}]}]
`, port))
	for path, want := range map[string]int{"/open": 200, "/closed": 403} {
		resp, err := http.Get("http://" + s.Addr("l") + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: %d, want %d", path, resp.StatusCode, want)
		}
	}
	if got := s.Counter("http.ingress.rbac.policy.everyone.denied"); got != 1 {
		t.Fatalf("policy.everyone.denied = %d", got)
	}
}
