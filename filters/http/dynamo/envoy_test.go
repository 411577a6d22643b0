package dynamo_test

import (
	"fmt"
	"net"
	"testing"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
)

// TestEnvoyConfig: Envoy's Dynamo filter, loaded from an Envoy bootstrap,
// counts per operation and table.
func TestEnvoyConfig(t *testing.T) {
	up, _ := startJSON(t, 200, `{}`)
	host, port, _ := net.SplitHostPort(up)
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
          stat_prefix: egress_dynamodb
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes: [{match: {prefix: "/"}, route: {cluster: c}}]
          http_filters:
          - name: envoy.filters.http.dynamo
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.dynamo.v3.Dynamo
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: c
    load_assignment:
      cluster_name: c
      endpoints:
      - lb_endpoints:
        - endpoint: {address: {socket_address: {address: %s, port_value: %s}}}
`, host, port))
	post(t, "http://"+s.Addr("l")+"/", "DynamoDB_20120810.DescribeTable", `{"TableName":"users"}`)
	waitStats(t, s, map[string]uint64{
		"http.egress_dynamodb.dynamodb.operation.DescribeTable.upstream_rq_total_200": 1,
		"http.egress_dynamodb.dynamodb.table.users.upstream_rq_total_2xx":             1,
	})
}
