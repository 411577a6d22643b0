package fault_test

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
              - match: {prefix: "/fixed"}
                route: {cluster: c}
                typed_per_filter_config:
                  envoy.filters.http.fault:
                    "@type": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault
                    abort:
                      http_status: 503
                      percentage: {numerator: 100, denominator: HUNDRED}
              - match: {prefix: "/"}
                route: {cluster: c}
          http_filters:
          - name: envoy.filters.http.fault
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault
              max_active_faults: 100
              delay:
                header_delay: {}
                percentage: {numerator: 100}
              abort:
                header_abort: {}
                percentage: {numerator: 100}
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
	base := "http://" + s.Addr("l")
	if code, _ := mustDo(t, base+"/fixed"); code != 503 {
		t.Fatalf("per-route abort: %d", code)
	}
	if code, _ := mustDo(t, base+"/x", "x-envoy-fault-abort-request", "429"); code != 429 {
		t.Fatalf("header abort: %d", code)
	}
	if code, body := mustDo(t, base+"/x", "x-envoy-fault-delay-request", "1"); code != 200 || body != "ok" {
		t.Fatalf("header delay: %d %q", code, body)
	}
	if s.Counter("http.ingress.fault.aborts_injected") != 2 || s.Counter("http.ingress.fault.delays_injected") != 1 {
		t.Fatalf("aborts %d delays %d", s.Counter("http.ingress.fault.aborts_injected"), s.Counter("http.ingress.fault.delays_injected"))
	}
}
