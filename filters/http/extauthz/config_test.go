package extauthz_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sluice-proxy/sluice/config"
)

// TestConfigErrors: bad configs are refused at load with their paths.
func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct{ filter, want string }{
		{`{}`, "ext_authz: set exactly one of grpc_service, http_service"},
		{`{grpc_service: {timeout: 1s}}`, "ext_authz.grpc_service.envoy_grpc.cluster_name: required"},
		{`{grpc_service: {envoy_grpc: {cluster_name: a}, timeout: 0s}}`, "ext_authz.grpc_service.timeout: must be above 0"},
		{`{http_service: {server_uri: {uri: "http://a", cluster: a}}}`, "ext_authz.http_service.server_uri.timeout: required, above 0"},
		{`{grpc_service: {envoy_grpc: {cluster_name: a}}, with_request_body: {max_request_bytes: 0}}`, "with_request_body.max_request_bytes: must be above 0"},
		{`{grpc_service: {envoy_grpc: {cluster_name: a}}, transport_api_version: V2}`, "transport_api_version: only V3"},
		{`{grpc_service: {envoy_grpc: {cluster_name: a}}, allowed_headers: {patterns: [{safe_regex: {regex: "("}}]}}`, "allowed_headers.patterns[0]"},
		{`{grpc_service: {envoy_grpc: {cluster_name: nope}}}`, `http_filters[0].ext_authz.grpc_service.envoy_grpc.cluster_name: no such cluster "nope"`},
		{`{http_service: {server_uri: {uri: "http://a", cluster: gone, timeout: 1s}}}`, `ext_authz.http_service.server_uri.cluster: no such cluster "gone"`},
	} {
		cfg := fmt.Sprintf(`
listeners:
  - name: l
    address: 127.0.0.1:0
    filters:
      - http_connection_manager:
          stat_prefix: s
          route_config: {virtual_hosts: [{name: v, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: c}}]}]}
          http_filters: [{ext_authz: %s}, {router: {}}]
clusters: [{name: c, endpoints: ["127.0.0.1:1"]}]
`, tc.filter)
		if _, err := config.Parse("t.yaml", []byte(cfg)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.filter, err, tc.want)
		}
	}
}
