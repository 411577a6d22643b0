package cors_test

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
              typed_per_filter_config:
                envoy.filters.http.cors:
                  "@type": type.googleapis.com/envoy.extensions.filters.http.cors.v3.CorsPolicy
                  allow_origin_string_match:
                  - safe_regex: {regex: "https://.*\\.example"}
                  allow_methods: "GET, POST"
                  max_age: "60"
                  allow_credentials: true
                  filter_enabled:
                    default_value: {numerator: 100, denominator: HUNDRED}
              routes:
              - match: {prefix: "/"}
                route: {cluster: c}
          http_filters:
          - name: envoy.filters.http.cors
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors
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
	resp, _ := send(t, "OPTIONS", "http://"+s.Addr("l")+"/x", "Origin", "https://a.example", "Access-Control-Request-Method", "POST")
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "https://a.example" ||
		resp.Header.Get("Access-Control-Allow-Methods") != "GET, POST" || resp.Header.Get("Access-Control-Max-Age") != "60" {
		t.Fatalf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	if u.hits.Load() != 0 {
		t.Fatal("upstream saw the preflight")
	}
	if resp, _ := send(t, "GET", "http://"+s.Addr("l")+"/x", "Origin", "https://a.example.org"); resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("non-matching origin got %v", resp.Header)
	}
}
