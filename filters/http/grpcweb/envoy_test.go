package grpcweb_test

import (
	"fmt"
	"net"
	"testing"

	testpb "google.golang.org/grpc/interop/grpc_testing"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
)

// TestEnvoyConfig loads grpc_web from an Envoy bootstrap and makes a call.
func TestEnvoyConfig(t *testing.T) {
	host, port, _ := net.SplitHostPort(serveGRPC(t, &service{}))
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
            virtual_hosts: [{name: all, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: c}}]}]
          http_filters:
          - name: envoy.filters.http.grpc_web
            typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.grpc_web.v3.GrpcWeb}
          - name: envoy.filters.http.router
            typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
  clusters:
  - name: c
    connect_timeout: 1s
    type: STATIC
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: {http2_protocol_options: {}}
    load_assignment:
      cluster_name: c
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: %s, port_value: %s}}}}]}]
`, host, port))
	_, out, tr := unary(t, newClient(t, s.Addr("l"), true, false), &testpb.SimpleRequest{ResponseSize: 5})
	if len(out.GetPayload().GetBody()) != 5 || tr["grpc-status"] != "0" {
		t.Fatalf("%v %v", out, tr)
	}
}
