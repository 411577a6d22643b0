package localratelimit_test

import (
	"fmt"
	"net"
	"testing"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
)

// envoyBootstrap is Envoy's documented "disabled globally, enabled for one
// route" example, the route's bucket in typed_per_filter_config under
// Envoy's filter name.
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
              routes:
              - match: {prefix: "/limited"}
                route: {cluster: c}
                typed_per_filter_config:
                  envoy.filters.http.local_ratelimit:
                    "@type": type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
                    stat_prefix: route_limit
                    status: {code: ServiceUnavailable}
                    token_bucket: {max_tokens: 1, tokens_per_fill: 1, fill_interval: 3600s}
                    filter_enabled:
                      runtime_key: local_rate_limit_enabled
                      default_value: {numerator: 100, denominator: HUNDRED}
                    filter_enforced:
                      runtime_key: local_rate_limit_enforced
                      default_value: {numerator: 100, denominator: HUNDRED}
                    enable_x_ratelimit_headers: DRAFT_VERSION_03
                    response_headers_to_add:
                    - append_action: OVERWRITE_IF_EXISTS_OR_ADD
                      header: {key: x-local-rate-limit, value: "true"}
              - match: {prefix: "/"}
                route: {cluster: c}
          http_filters:
          - name: envoy.filters.http.local_ratelimit
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit
              stat_prefix: http_local_rate_limiter
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: c
    connect_timeout: 1s
    type: STATIC
    load_assignment:
      cluster_name: c
      endpoints:
      - lb_endpoints:
        - endpoint: {address: {socket_address: {address: %s, port_value: %s}}}
`

func TestEnvoyPerRouteConfig(t *testing.T) {
	u := startUpstream(t)
	host, port, _ := net.SplitHostPort(u.Listener.Addr().String())
	s := sluicetest.StartEnvoy(t, fmt.Sprintf(envoyBootstrap, host, port))
	base := "http://" + s.Addr("l")
	if resp, _ := get(t, base+"/limited"); resp.StatusCode != 200 || resp.Header.Get("X-Ratelimit-Remaining") != "0" {
		t.Fatalf("first: %d, x-ratelimit-remaining %q", resp.StatusCode, resp.Header.Get("X-Ratelimit-Remaining"))
	}
	resp, body := get(t, base+"/limited")
	if resp.StatusCode != 503 || body != "local_rate_limited" || resp.Header.Get("X-Local-Rate-Limit") != "true" {
		t.Fatalf("second: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	for i := 0; i < 3; i++ {
		if resp, _ := get(t, base+"/other"); resp.StatusCode != 200 {
			t.Fatalf("unlimited route: %d", resp.StatusCode)
		}
	}
	if got := s.Counter("route_limit.http_local_rate_limit.enforced"); got != 1 {
		t.Fatalf("route_limit enforced = %d", got)
	}
	if got := s.Counter("http_local_rate_limiter.http_local_rate_limit.enabled"); got != 0 {
		t.Fatalf("global enabled = %d", got)
	}
}
