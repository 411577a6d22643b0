package envoy

import (
	"strings"
	"testing"
)

// envoyForwardProxy is Envoy's dynamic forward proxy example shape: the
// filter and the cluster share the DNS cache by name; CONNECT is tunnelled.
const envoyForwardProxy = `
static_resources:
  listeners:
  - name: egress
    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: egress
          route_config:
            virtual_hosts:
            - name: allowed
              domains: ["example.com"]
              routes:
              - {match: {connect_matcher: {}}, route: {cluster: dfp, upgrade_configs: [{upgrade_type: CONNECT}]}}
              - {match: {prefix: "/"}, route: {cluster: dfp}}
          http_filters:
          - name: envoy.filters.http.dynamic_forward_proxy
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.dynamic_forward_proxy.v3.FilterConfig
              dns_cache_config: {name: dynamic_forward_proxy_cache_config, dns_lookup_family: V4_ONLY}
          - name: envoy.filters.http.router
            typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router}
  clusters:
  - name: dfp
    lb_policy: CLUSTER_PROVIDED
    cluster_type:
      name: envoy.clusters.dynamic_forward_proxy
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.clusters.dynamic_forward_proxy.v3.ClusterConfig
        dns_cache_config: {name: dynamic_forward_proxy_cache_config, dns_lookup_family: V4_ONLY, max_hosts: 100, dns_refresh_rate: 30s}
`

func TestEnvoyDynamicForwardProxy(t *testing.T) {
	cfg, _ := parse(t, envoyForwardProxy)
	c := cfg.Cluster("dfp")
	if c == nil || c.Type != "dynamic_forward_proxy" || c.DNSCacheConfig == nil {
		t.Fatalf("cluster = %+v", c)
	}
	d := c.DNSCacheConfig
	if d.Name != "dynamic_forward_proxy_cache_config" || d.DNSLookupFamily != "V4_ONLY" || d.MaxHosts != 100 || d.DNSRefreshRate.D().String() != "30s" {
		t.Fatalf("dns_cache_config = %+v", d)
	}
	bad := strings.Replace(envoyForwardProxy, "max_hosts: 100,", "max_hosts: 100, use_tcp_for_dns_lookups: true,", 1)
	if _, _, err := Parse("envoy.yaml", []byte(bad)); err == nil || !strings.Contains(err.Error(), "use_tcp_for_dns_lookups") {
		t.Fatalf("an unsupported DnsCacheConfig field: %v", err)
	}
}
