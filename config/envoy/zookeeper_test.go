package envoy

import (
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/filters/rbac"
	"github.com/sluice-proxy/sluice/filters/zookeeper"
)

// TestTranslateZooKeeper: Envoy's zookeeper_proxy example config (and an
// rbac metadata permission on its metadata) load into sluice's configs.
func TestTranslateZooKeeper(t *testing.T) {
	cfg, _ := parse(t, `
static_resources:
  listeners:
  - name: main
    address: {socket_address: {address: 127.0.0.1, port_value: 10001}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.rbac
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC
          stat_prefix: guard
          rules:
            action: DENY
            policies:
              no-creates:
                permissions:
                - metadata:
                    filter: envoy.filters.network.zookeeper_proxy
                    path: [{key: opname}]
                    value: {string_match: {exact: create}}
                principals: [{any: true}]
      - name: envoy.filters.network.zookeeper_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.zookeeper_proxy.v3.ZooKeeperProxy
          stat_prefix: zookeeper
          max_packet_bytes: 2097152
          enable_per_opcode_request_bytes_metrics: true
          enable_per_opcode_response_bytes_metrics: true
          enable_per_opcode_decoder_error_metrics: true
          enable_latency_threshold_metrics: true
          default_latency_threshold: "0.1s"
          latency_threshold_overrides:
          - {opcode: Create, threshold: "0.15s"}
          - {opcode: Multi, threshold: "0.2s"}
      - name: envoy.filters.network.tcp_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: tcp
          cluster: zk
  clusters:
  - name: zk
    load_assignment:
      cluster_name: zk
      endpoints:
      - lb_endpoints:
        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 2181}}}
`)
	fs := cfg.Listeners[0].FilterChains[0].Filters
	zc := fs[1].Config.(*zookeeper.Config)
	if zc.StatPrefix != "zookeeper" || zc.MaxPacketBytes != 2097152 || !zc.EnableLatencyThresholdMetrics ||
		!zc.EnablePerOpcodeRequestBytesMetrics || !zc.EnablePerOpcodeResponseBytesMetrics || !zc.EnablePerOpcodeDecoderErrorMetrics ||
		zc.DefaultLatencyThreshold.D() != 100*time.Millisecond || len(zc.LatencyThresholdOverrides) != 2 ||
		zc.LatencyThresholdOverrides[1].Opcode != "Multi" || zc.LatencyThresholdOverrides[1].Threshold.D() != 200*time.Millisecond {
		t.Fatalf("zookeeper_proxy config %+v", zc)
	}
	rc := fs[0].Config.(*rbac.Config)
	m := rc.Rules.Policies["no-creates"].Permissions[0].Metadata
	if m == nil || m.Filter != zookeeper.MetadataNamespace || m.Path[0].Key != "opname" || *m.Value.StringMatch.Exact != "create" {
		t.Fatalf("rbac metadata permission %+v", m)
	}
	// Defaults when unset: Envoy's 1 MiB and 100ms.
	cfg, _ = parse(t, `
static_resources:
  listeners:
  - name: main
    address: {socket_address: {address: 127.0.0.1, port_value: 10001}}
    filter_chains:
    - filters:
      - {name: z, typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.network.zookeeper_proxy.v3.ZooKeeperProxy, stat_prefix: z}}
      - {name: t, typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: t, cluster: zk}}
  clusters:
  - name: zk
    load_assignment: {cluster_name: zk, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 2181}}}}]}]}
`)
	zc = cfg.Listeners[0].FilterChains[0].Filters[0].Config.(*zookeeper.Config)
	if zc.MaxPacketBytes != 1<<20 || zc.DefaultLatencyThreshold.D() != 100*time.Millisecond {
		t.Fatalf("defaults %+v", zc)
	}
}
