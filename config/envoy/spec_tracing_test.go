package envoy

import (
	"strings"
	"testing"

	"github.com/sluice-proxy/sluice/filters/httpconn"
)

// envoyTracing is Envoy's OpenTelemetry sandbox shape: the HCM traces to
// an OTLP/gRPC collector cluster, one route has a decorator.
const envoyTracing = `
static_resources:
  listeners:
  - name: front
    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: front
          tracing:
            random_sampling: {value: 1.5}
            client_sampling: {value: 50}
            max_path_tag_length: 64
            spawn_upstream_span: true
            custom_tags:
            - {tag: team, literal: {value: core}}
            - {tag: ua, request_header: {name: user-agent, default_value: none}}
            - {tag: host, environment: {name: HOSTNAME}}
            provider:
              name: envoy.tracers.opentelemetry
              typed_config:
                "@type": type.googleapis.com/envoy.config.trace.v3.OpenTelemetryConfig
                grpc_service: {envoy_grpc: {cluster_name: otel}, timeout: 0.250s}
                service_name: front-proxy
                resource_detectors:
                - name: envoy.tracers.opentelemetry.resource_detectors.environment
                  typed_config: {"@type": type.googleapis.com/envoy.extensions.tracers.opentelemetry.resource_detectors.v3.EnvironmentResourceDetectorConfig}
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - {match: {prefix: "/"}, route: {cluster: web}, decorator: {operation: checkout}}
          http_filters:
          - name: envoy.filters.http.router
            typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router, start_child_span: true}
  clusters:
  - {name: web, load_assignment: {cluster_name: web, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 8080}}}}]}]}}
  - name: otel
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: {http2_protocol_options: {}}
    load_assignment: {cluster_name: otel, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 4317}}}}]}]}
`

func TestEnvoyTracing(t *testing.T) {
	cfg, _ := parse(t, envoyTracing)
	h, ok := cfg.Listeners[0].FilterChains[0].Filters[0].Config.(*httpconn.Config)
	if !ok || h.Tracing == nil {
		t.Fatalf("no tracing: %+v", cfg.Listeners[0].FilterChains[0].Filters[0].Config)
	}
	tr := h.Tracing
	if *tr.RandomSampling != 1.5 || *tr.ClientSampling != 50 || tr.OverallSampling != nil || tr.MaxPathTagLength != 64 || !tr.SpawnUpstreamSpan {
		t.Fatalf("tracing = %+v", tr)
	}
	if len(tr.CustomTags) != 3 || tr.CustomTags[0].Literal.Value != "core" || tr.CustomTags[1].RequestHeader.DefaultValue != "none" || tr.CustomTags[2].Environment.Name != "HOSTNAME" {
		t.Fatalf("custom_tags = %+v", tr.CustomTags)
	}
	o := tr.Provider.OpenTelemetry
	if o == nil || o.ServiceName != "front-proxy" || o.GRPCService.EnvoyGRPC.ClusterName != "otel" || o.GRPCService.Timeout.D().String() != "250ms" ||
		len(o.ResourceDetectors) != 1 {
		t.Fatalf("opentelemetry = %+v", o)
	}
	if rc, ok := h.HTTPFilters[0].Config.(*httpconn.RouterConfig); !ok || !rc.StartChildSpan {
		t.Fatalf("router = %+v", h.HTTPFilters[0].Config)
	}
	if d := h.RouteConfig.VirtualHosts[0].Routes[0].Decorator; d == nil || d.Operation != "checkout" {
		t.Fatalf("decorator = %+v", d)
	}
	for _, bad := range []struct{ from, to, want string }{
		{"max_path_tag_length: 64", "max_path_tag_length: 64\n            verbose: true\n            operation: EGRESS", "operation"},
		{"service_name: front-proxy", "service_name: front-proxy\n                sampler: {name: x, typed_config: {\"@type\": type.googleapis.com/google.protobuf.Empty}}", "sampler"},
		{"cluster_name: otel}", "cluster_name: nowhere}", "nowhere"},
	} {
		_, _, err := Parse("envoy.yaml", []byte(strings.Replace(envoyTracing, bad.from, bad.to, 1)))
		if bad.want == "operation" { // ignored with a warning, still loads
			if err != nil {
				t.Errorf("operation: %v", err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: %v", bad.want, err)
		}
	}
}
