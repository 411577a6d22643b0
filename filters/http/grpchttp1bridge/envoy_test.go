package grpchttp1bridge_test

import (
	"fmt"
	"net"
	"testing"

	testpb "google.golang.org/grpc/interop/grpc_testing"
	"google.golang.org/protobuf/proto"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
)

// TestEnvoyConfig loads grpc_http1_bridge from an Envoy bootstrap and
// bridges an upgraded x-protobuf call.
func TestEnvoyConfig(t *testing.T) {
	host, port, _ := net.SplitHostPort(serve(t))
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
          - name: envoy.filters.http.grpc_http1_bridge
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.grpc_http1_bridge.v3.Config
              upgrade_protobuf_to_grpc: true
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
	b, _ := proto.Marshal(&testpb.SimpleRequest{ResponseSize: 7})
	resp, body := post(t, "http://"+s.Addr("l")+"/grpc.testing.TestService/UnaryCall", "application/x-protobuf", b)
	var out testpb.SimpleResponse
	if resp.StatusCode != 200 || proto.Unmarshal(body, &out) != nil || len(out.GetPayload().GetBody()) != 7 {
		t.Fatalf("%d %q", resp.StatusCode, body)
	}
}
