package envoy

import (
	"strings"
	"testing"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/filters/connlimit"
	"github.com/sluice-proxy/sluice/filters/localratelimit"
)

const listenerPolicy = `
static_resources:
  listeners:
  - name: edge
    address: {socket_address: {address: 127.0.0.1, port_value: 10001}}
    listener_filters_timeout: 3s
    continue_on_listener_filters_timeout: true
    listener_filters:
    - name: pp
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol
        allow_requests_without_proxy_protocol: true
        disallowed_versions: [V1]
        stat_prefix: edge
        rules: [{tlv_type: 5, on_tlv_present: {key: unique_id}}]
        pass_through_tlvs: {match_type: INCLUDE, tlv_type: [32]}
    - name: envoy.filters.listener.tls_inspector
      typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector}
    - name: envoy.filters.listener.http_inspector
      typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.listener.http_inspector.v3.HttpInspector}
    - name: envoy.filters.listener.original_dst
      typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst}
    filter_chains:
    - filter_chain_match:
        prefix_ranges: [{address_prefix: 10.0.0.0, prefix_len: 8}]
        direct_source_prefix_ranges: [{address_prefix: 127.0.0.1, prefix_len: 32}]
        source_type: SAME_IP_OR_LOOPBACK
        source_ports: [5000]
        application_protocols: [http/1.1]
      transport_socket_connect_timeout: 2s
      filters:
      - name: cl
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.connection_limit.v3.ConnectionLimit
          stat_prefix: cl
          max_connections: 10
          delay: 0.5s
          runtime_enabled: {default_value: false, runtime_key: cl.enabled}
      - name: rl
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.local_ratelimit.v3.LocalRateLimit
          stat_prefix: rl
          token_bucket: {max_tokens: 5, tokens_per_fill: 2, fill_interval: 1s}
      - name: tcp
        typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: t, cluster: c}
    default_filter_chain:
      filters:
      - name: tcp
        typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: d, cluster: c}
  clusters:
  - name: c
    load_assignment:
      cluster_name: c
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 7000}}}}]}]
`

// TestTranslateListenerFiltersAndPolicy: listener filters, the whole
// filter_chain_match, default_filter_chain, transport_socket_connect_timeout,
// connection_limit and local_ratelimit land in sluice's model.
func TestTranslateListenerFiltersAndPolicy(t *testing.T) {
	cfg, _ := parse(t, listenerPolicy)
	l := cfg.Listeners[0]
	if len(l.ListenerFilters) != 4 {
		t.Fatalf("listener filters: %+v", l.ListenerFilters)
	}
	pp, ok := l.ListenerFilters[0].TypedConfig.(*config.ProxyProtocolConfig)
	if !ok || l.ListenerFilters[0].Name != config.ProxyProtocol || !pp.AllowRequestsWithoutProxyProtocol ||
		!pp.Disallowed(1) || pp.Disallowed(2) || pp.StatPrefix != "edge" || len(pp.Rules) != 1 ||
		pp.Rules[0].TLVType != 5 || pp.Rules[0].OnTLVPresent.Key != "unique_id" ||
		!pp.PassThroughTLVs.Includes(32) || pp.PassThroughTLVs.Includes(5) {
		t.Errorf("proxy_protocol: %s %+v", l.ListenerFilters[0].Name, l.ListenerFilters[0].TypedConfig)
	}
	for i, want := range []string{config.TLSInspector, config.HTTPInspector, config.OriginalDst} {
		if l.ListenerFilters[i+1].Name != want {
			t.Errorf("listener_filters[%d] = %s, want %s", i+1, l.ListenerFilters[i+1].Name, want)
		}
	}
	fc := l.FilterChains[0]
	m := fc.Match
	if strings.Join(m.DestinationPrefixes, ",") != "10.0.0.0/8" || strings.Join(m.DirectSourcePrefixes, ",") != "127.0.0.1/32" ||
		m.SourceType != "SAME_IP_OR_LOOPBACK" || len(m.SourcePorts) != 1 || m.SourcePorts[0] != 5000 {
		t.Errorf("match = %+v", m)
	}
	if fc.TransportSocketConnectTimeout.D().String() != "2s" || l.ListenerFiltersTimeout.D().String() != "3s" || !l.ContinueOnListenerFiltersTimeout {
		t.Errorf("timeouts: %v %v", fc.TransportSocketConnectTimeout.D(), l.ListenerFiltersTimeout.D())
	}
	cl, ok := fc.Filters[0].Config.(*connlimit.Config)
	if !ok || cl.MaxConnections != 10 || cl.Delay.D().String() != "500ms" || cl.RuntimeEnabled.Enabled() || cl.StatPrefix != "cl" {
		t.Errorf("connection_limit: %+v", fc.Filters[0].Config)
	}
	rl, ok := fc.Filters[1].Config.(*localratelimit.Config)
	if !ok || rl.TokenBucket.MaxTokens != 5 || *rl.TokenBucket.TokensPerFill != 2 || rl.TokenBucket.FillInterval.D().String() != "1s" {
		t.Errorf("local_ratelimit: %+v", fc.Filters[1].Config)
	}
	if l.DefaultFilterChain == nil || len(l.DefaultFilterChain.Filters) != 1 {
		t.Errorf("default_filter_chain: %+v", l.DefaultFilterChain)
	}
}

// TestListenerFilterErrors: an unknown listener filter type, a field sluice
// lacks and a bad value are refused with their Envoy paths.
func TestListenerFilterErrors(t *testing.T) {
	for _, tc := range []struct{ edit, want string }{
		{"- name: envoy.filters.listener.tls_inspector\n      typed_config: {\"@type\": type.googleapis.com/envoy.extensions.filters.listener.original_src.v3.OriginalSrc}",
			"static_resources.listeners[0].listener_filters[1].typed_config"},
		{"- name: envoy.filters.listener.tls_inspector\n      filter_disabled: {destination_port_range: {start: 1, end: 2}}\n      typed_config: {\"@type\": type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector}",
			"listener_filters[1].filter_disabled"},
	} {
		in := strings.Replace(listenerPolicy, "- name: envoy.filters.listener.tls_inspector\n      typed_config: {\"@type\": type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector}", tc.edit, 1)
		_, _, err := Parse("envoy.yaml", []byte(in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want one naming %s", tc.want, err, tc.want)
		}
	}
	bad := strings.Replace(listenerPolicy, "fill_interval: 1s", "fill_interval: 0.01s", 1)
	if _, _, err := Parse("envoy.yaml", []byte(bad)); err == nil || !strings.Contains(err.Error(), "token_bucket.fill_interval") {
		t.Errorf("fill_interval 10ms: %v", err)
	}
}

// TestTranslateUpstreamProxyProtocol: a cluster's
// envoy.transport_sockets.upstream_proxy_protocol (over raw_buffer) becomes
// upstream_proxy_protocol; any other inner socket is refused with its path.
func TestTranslateUpstreamProxyProtocol(t *testing.T) {
	sock := func(inner string) string {
		return strings.Replace(listenerPolicy, "  - name: c\n", `  - name: c
    transport_socket:
      name: envoy.transport_sockets.upstream_proxy_protocol
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.transport_sockets.proxy_protocol.v3.ProxyProtocolUpstreamTransport
        config: {version: V2, pass_through_tlvs: {match_type: INCLUDE_ALL}}
        transport_socket: {name: raw, typed_config: {"@type": `+inner+`}}
`, 1)
	}
	cfg, _ := parse(t, sock("type.googleapis.com/envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer"))
	pp := cfg.Clusters[0].UpstreamProxyProtocol
	if pp == nil || pp.Version != "V2" || !pp.PassThroughTLVs.Includes(0x20) {
		t.Fatalf("upstream_proxy_protocol = %+v", pp)
	}
	_, _, err := Parse("e.yaml", []byte(sock("type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext")))
	if err == nil || !strings.Contains(err.Error(), "static_resources.clusters[0].transport_socket.typed_config.transport_socket.typed_config.@type") {
		t.Fatalf("inner TLS socket: %v", err)
	}
}

// TestRuntimeListenerConnectionLimit: a static runtime layer's
// envoy.resource_limits.listener.<name>.connection_limit (flat or nested)
// becomes that listener's max_connections; a later layer wins; other keys
// only warn.
func TestRuntimeListenerConnectionLimit(t *testing.T) {
	in := listenerPolicy + `
layered_runtime:
  layers:
  - name: a
    static_layer:
      envoy.resource_limits.listener.edge.connection_limit: 100
      other.key: true
  - name: b
    static_layer:
      envoy: {resource_limits: {listener: {edge: {connection_limit: 7}}}}
`
	cfg, warns := parse(t, in)
	if got := cfg.Listeners[0].MaxConnections; got != 7 {
		t.Errorf("max_connections = %d, want 7", got)
	}
	if len(warns) != 1 || !strings.Contains(warns[0], "layered_runtime.layers[0].static_layer.other.key") {
		t.Errorf("warnings %q", warns)
	}
	bad := strings.Replace(in, "connection_limit: 7", "connection_limit: -1", 1)
	if _, _, err := Parse("e.yaml", []byte(bad)); err == nil || !strings.Contains(err.Error(), "layered_runtime.layers[1].static_layer.envoy.resource_limits.listener.edge.connection_limit") {
		t.Errorf("negative limit: %v", err)
	}
}
