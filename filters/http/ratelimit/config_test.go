package ratelimit_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sluice-proxy/sluice/config"
)

// TestConfigErrors: bad filter configs and route actions are refused at
// load with their paths.
func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct{ filter, action, want string }{
		{`{rate_limit_service: {grpc_service: {envoy_grpc: {cluster_name: rls}}}}`, `{generic_key: {descriptor_value: a}}`, "ratelimit.domain: required"},
		{`{domain: d, rate_limit_service: {}}`, `{generic_key: {descriptor_value: a}}`, "rate_limit_service.grpc_service.envoy_grpc.cluster_name: required"},
		{`{domain: d, stage: 11, rate_limit_service: {grpc_service: {envoy_grpc: {cluster_name: rls}}}}`, `{generic_key: {descriptor_value: a}}`, "ratelimit.stage: must be at most 10"},
		{`{domain: d, rate_limit_service: {grpc_service: {envoy_grpc: {cluster_name: rls}}}}`, `{generic_key: {}}`, "rate_limits[0].actions[0].generic_key.descriptor_value: required"},
		{`{domain: d, rate_limit_service: {grpc_service: {envoy_grpc: {cluster_name: rls}}}}`, `{request_headers: {header_name: x}}`, "actions[0].request_headers.descriptor_key: required"},
		{`{domain: d, rate_limit_service: {grpc_service: {envoy_grpc: {cluster_name: rls}}}}`, `{remote_address: {}, destination_cluster: {}}`, "actions[0]: set exactly one of"},
		{`{domain: d, rate_limit_service: {grpc_service: {envoy_grpc: {cluster_name: nope}}}}`, `{remote_address: {}}`, `ratelimit.rate_limit_service.grpc_service.envoy_grpc.cluster_name: no such cluster "nope"`},
	} {
		cfg := fmt.Sprintf(`
listeners:
  - name: l
    address: 127.0.0.1:0
    filters:
      - http_connection_manager:
          stat_prefix: s
          route_config: {virtual_hosts: [{name: v, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: c, rate_limits: [{actions: [%s]}]}}]}]}
          http_filters: [{ratelimit: %s}, {router: {}}]
clusters: [{name: c, endpoints: ["127.0.0.1:1"]}, {name: rls, endpoints: ["127.0.0.1:2"]}]
`, tc.action, tc.filter)
		if _, err := config.Parse("t.yaml", []byte(cfg)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %s: %v, want %q", tc.filter, tc.action, err, tc.want)
		}
	}
}
