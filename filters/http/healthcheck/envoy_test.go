package healthcheck_test

import (
	"fmt"
	"net"
	"testing"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
)

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
              - match: {prefix: "/"}
                route: {cluster: c}
          http_filters:
          - name: envoy.filters.http.health_check
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.health_check.v3.HealthCheck
              pass_through_mode: false
              cluster_min_healthy_percentages:
                c: {value: 100}
              headers:
              - name: ":path"
                string_match: {exact: "/healthz"}
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

func TestEnvoyConfig(t *testing.T) {
	u := startUpstream(t)
	host, port, _ := net.SplitHostPort(u.Listener.Addr().String())
	s := sluicetest.StartEnvoy(t, fmt.Sprintf(envoyBootstrap, host, port))
	if got := status(t, "http://"+s.Addr("l")+"/healthz"); got != 200 {
		t.Fatalf("healthz: %d", got)
	}
	s.AdminPost("/healthcheck/fail")
	if got := status(t, "http://"+s.Addr("l")+"/healthz"); got != 503 {
		t.Fatalf("healthz after fail: %d", got)
	}
	if u.hits.Load() != 0 {
		t.Fatalf("upstream hits %d", u.hits.Load())
	}
}
