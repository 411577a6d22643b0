package envoy

import (
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/sluice-proxy/sluice/config"

	// The tracer's typed_config and its resource detector.
	_ "github.com/envoyproxy/go-control-plane/envoy/config/trace/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/tracers/opentelemetry/resource_detectors/v3"
)

// tracingSpecs: http_connection_manager's tracing with the OpenTelemetry
// provider (package tracing), and the route decorator that names spans.
// sluice's YAML has the same shape, except the provider:
// {opentelemetry: {...}} instead of {name, typed_config}.
var tracingSpecs = []message{
	{name: hcmMessage + ".Tracing", fields: []field{
		okNote("client_sampling", "share of x-client-trace-id requests traced"),
		okNote("random_sampling", "decided on x-request-id, so every hop agrees"),
		ok("overall_sampling"), okNote("verbose", "an event per upstream request"), ok("max_path_tag_length"),
		okNote("custom_tags", "literal, request_header, environment"), okNote("provider", "envoy.tracers.opentelemetry"),
		okNote("spawn_upstream_span", "a child span \"router <cluster> egress\" per upstream request"),
		ignored("operation", "spans are named by the route's decorator, else \"ingress\""),
		ignored("upstream_operation", "upstream spans are named \"router <cluster> egress\""),
	}},
	{name: "envoy.type.tracing.v3.CustomTag", fields: oks("tag", "literal", "request_header", "environment")},
	{name: "envoy.type.tracing.v3.CustomTag.Literal", fields: oks("value")},
	{name: "envoy.type.tracing.v3.CustomTag.Header", fields: oks("name", "default_value")},
	{name: "envoy.type.tracing.v3.CustomTag.Environment", fields: oks("name", "default_value")},
	{name: "envoy.config.trace.v3.Tracing.Http", translate: tracingProvider, fields: []field{
		ok("name"), own("typed_config", "envoy.config.trace.v3.OpenTelemetryConfig"),
	}},
	{name: "envoy.config.trace.v3.OpenTelemetryConfig", translate: otelConfig, fields: []field{
		own("grpc_service", "envoy_grpc (cluster_name, authority) and timeout: OTLP/gRPC through the cluster"),
		okNote("http_service", "OTLP/HTTP protobuf to http_uri through its cluster"),
		ok("service_name"),
		own("resource_detectors", "the environment detector (OTEL_RESOURCE_ATTRIBUTES)"),
		ignored("max_cache_size", "sluice batches by max_queue_size (2048) and 512 spans per export"),
	}},
	{name: "envoy.config.core.v3.HttpService", translate: httpService, fields: []field{
		ok("http_uri"), own("request_headers_to_add", "literal key/value"),
	}},
	{name: "envoy.extensions.tracers.opentelemetry.resource_detectors.v3.EnvironmentResourceDetectorConfig"},
	{name: "envoy.config.route.v3.Decorator", fields: []field{
		okNote("operation", "the span name of the route's requests"),
		ignored("propagate", "x-envoy-decorator-operation is not sent upstream"),
	}},
}

// tracingProvider renders Tracing.Http as {opentelemetry: {...}}.
func tracingProvider(t *translator, m protoreflect.Message, env, slu string) any {
	t.paths[slu] = env
	fd := m.Descriptor().Fields().ByName("typed_config")
	if !m.Has(fd) {
		t.errs.Add(config.Join(env, "typed_config"), "required: envoy.config.trace.v3.OpenTelemetryConfig")
		return nil
	}
	inner, err := unpack(m.Get(fd).Message())
	if err != nil {
		t.errs.Add(config.Join(env, "typed_config"), "%v", err)
		return nil
	}
	if inner.Descriptor().FullName() != "envoy.config.trace.v3.OpenTelemetryConfig" {
		t.errs.Add(config.Join(env, "typed_config.@type"), "%s: sluice has the OpenTelemetry tracer only", inner.Descriptor().FullName())
		return nil
	}
	return map[string]any{"opentelemetry": t.message(inner, config.Join(env, "typed_config"), config.Join(slu, "opentelemetry"))}
}

// otelConfig copies OpenTelemetryConfig, reading grpc_service's
// envoy_grpc and timeout and the resource detectors' names.
func otelConfig(t *translator, m protoreflect.Message, env, slu string) any {
	out := t.copyFields(m, specs[m.Descriptor().FullName()], env, slu)
	fds := m.Descriptor().Fields()
	if fd := fds.ByName("grpc_service"); m.Has(fd) {
		g := m.Get(fd).Message()
		gf := g.Descriptor().Fields()
		gs := map[string]any{}
		if eg := gf.ByName("envoy_grpc"); g.Has(eg) {
			e := g.Get(eg).Message()
			ef := e.Descriptor().Fields()
			gs["envoy_grpc"] = map[string]any{"cluster_name": e.Get(ef.ByName("cluster_name")).String(),
				"authority": e.Get(ef.ByName("authority")).String()}
		} else {
			t.errs.Add(config.Join(env, "grpc_service"), "give envoy_grpc (a cluster)")
		}
		if to := gf.ByName("timeout"); g.Has(to) {
			gs["timeout"] = t.message(g.Get(to).Message(), config.Join(env, "grpc_service.timeout"), config.Join(slu, "grpc_service.timeout"))
		}
		out["grpc_service"] = gs
	}
	if fd := fds.ByName("resource_detectors"); m.Has(fd) {
		l := m.Get(fd).List()
		names := make([]any, 0, l.Len())
		for i := 0; i < l.Len(); i++ {
			e := l.Get(i).Message()
			names = append(names, e.Get(e.Descriptor().Fields().ByName("name")).String())
		}
		out["resource_detectors"] = names
	}
	return out
}

// httpService copies HttpService with request_headers_to_add flattened
// to key/value pairs.
func httpService(t *translator, m protoreflect.Message, env, slu string) any {
	out := t.copyFields(m, specs[m.Descriptor().FullName()], env, slu)
	if fd := m.Descriptor().Fields().ByName("request_headers_to_add"); m.Has(fd) {
		l := m.Get(fd).List()
		hs := make([]any, 0, l.Len())
		for i := 0; i < l.Len(); i++ {
			o := l.Get(i).Message()
			h := o.Get(o.Descriptor().Fields().ByName("header")).Message()
			hf := h.Descriptor().Fields()
			hs = append(hs, map[string]any{"key": h.Get(hf.ByName("key")).String(), "value": h.Get(hf.ByName("value")).String()})
		}
		out["request_headers_to_add"] = hs
	}
	return out
}
