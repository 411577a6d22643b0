package buffer_test

import (
	"fmt"
	"net"
	"strings"
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
              - match: {prefix: "/stream"}
                route: {cluster: c}
                typed_per_filter_config:
                  envoy.filters.http.buffer:
                    "@type": type.googleapis.com/envoy.extensions.filters.http.buffer.v3.BufferPerRoute
                    disabled: true
              - match: {prefix: "/"}
                route: {cluster: c}
          http_filters:
          - name: envoy.filters.http.buffer
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer
              max_request_bytes: 16
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
	if code, _ := post(t, base+"/x", strings.Repeat("a", 17), true); code != 413 {
		t.Fatalf("over limit: %d", code)
	}
	if code, body := post(t, base+"/stream", strings.Repeat("a", 17), true); code != 200 || body != "cl=-1 te=[chunked] n=17" {
		t.Fatalf("disabled route: %d %q", code, body)
	}
}
