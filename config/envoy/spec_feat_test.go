package envoy

import (
	"strings"
	"testing"

	"github.com/sluice-proxy/sluice/filters/httpconn"
)

// TestFeatBootstrap: a whole Envoy bootstrap with a cluster retry_budget,
// an endpoint hostname and the connection manager's upgrade_configs, via,
// strip_any_host_port and always_set_request_id_in_response loads into
// sluice's config with the same meaning.
func TestFeatBootstrap(t *testing.T) {
	cfg, _ := parse(t, `
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
          upgrade_configs: [{upgrade_type: websocket}, {upgrade_type: CONNECT, enabled: false}]
          via: edge
          strip_any_host_port: true
          always_set_request_id_in_response: true
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: {prefix: /}
                route: {cluster: a, auto_host_rewrite: true}
          http_filters:
          - name: envoy.filters.http.router
            typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
  clusters:
  - name: a
    connect_timeout: 1s
    circuit_breakers: {thresholds: [{retry_budget: {budget_percent: {value: 30}, min_retry_concurrency: 5}}]}
    load_assignment:
      cluster_name: a
      endpoints:
      - lb_endpoints:
        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 7001}}, hostname: a.internal}
`)
	c := cfg.Clusters[0]
	rb := c.CircuitBreakers.Thresholds[0].RetryBudget
	if rb == nil || rb.BudgetPercent == nil || *rb.BudgetPercent != 30 || rb.MinRetryConcurrency == nil || *rb.MinRetryConcurrency != 5 {
		t.Fatalf("retry_budget %+v", rb)
	}
	if c.Endpoints[0].Hostname != "a.internal" {
		t.Fatalf("endpoint hostname %q", c.Endpoints[0].Hostname)
	}
	hcm, ok := cfg.Listeners[0].FilterChains[0].Filters[0].Config.(*httpconn.Config)
	if !ok {
		t.Fatalf("filter config %T", cfg.Listeners[0].FilterChains[0].Filters[0].Config)
	}
	if len(hcm.UpgradeConfigs) != 2 || !strings.EqualFold(hcm.UpgradeConfigs[0].UpgradeType, "websocket") ||
		hcm.UpgradeConfigs[1].Enabled == nil || *hcm.UpgradeConfigs[1].Enabled {
		t.Fatalf("upgrade_configs %+v", hcm.UpgradeConfigs)
	}
	if hcm.Via != "edge" || !hcm.StripAnyHostPort || !hcm.AlwaysSetRequestIDInResponse {
		t.Fatalf("via %q strip %v request id %v", hcm.Via, hcm.StripAnyHostPort, hcm.AlwaysSetRequestIDInResponse)
	}
}
