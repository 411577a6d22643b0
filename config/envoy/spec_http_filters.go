package envoy

import (
	"google.golang.org/protobuf/reflect/protoreflect"

	// The typed_config types of the HTTP filters below.
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/buffer/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/fault/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/health_check/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/local_ratelimit/v3"
)

// HTTP filters beyond the router: their typed_config messages name the
// filter in http_filters.
func init() {
	httpFilterNames["envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit"] = "local_ratelimit"
	httpFilterNames["envoy.extensions.filters.http.fault.v3.HTTPFault"] = "fault"
	httpFilterNames["envoy.extensions.filters.http.cors.v3.Cors"] = "cors"
	httpFilterNames["envoy.extensions.filters.http.health_check.v3.HealthCheck"] = "health_check"
	httpFilterNames["envoy.extensions.filters.http.buffer.v3.Buffer"] = "buffer"
}

// httpFilterSpecs: the everyday HTTP filters' configs. The same messages are
// read in typed_per_filter_config, where the translated map is kept under
// the entry's key for the filter to decode.
var httpFilterSpecs = []message{
	{name: "envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit", fields: []field{
		ok("stat_prefix"), ok("status"), ok("token_bucket"), okNote("filter_enabled", "default_value; unset is 0% as in Envoy"),
		okNote("filter_enforced", "default_value; unset is 0% as in Envoy"),
		ok("request_headers_to_add_when_not_enforced"), ok("response_headers_to_add"),
		okNote("enable_x_ratelimit_headers", "OFF, DRAFT_VERSION_03"),
		ignored("stage", "sluice has no rate_limits actions on routes yet; stage only selects them"),
	}, note: "descriptors, rate_limits and local_rate_limit_per_downstream_connection are refused for now"},
	{name: "envoy.type.v3.TokenBucket", fields: oks("max_tokens", "tokens_per_fill", "fill_interval")},
	{name: "envoy.type.v3.HttpStatus", translate: httpStatus, fields: oks("code")},
	{name: "envoy.extensions.filters.http.fault.v3.HTTPFault", fields: []field{
		ok("delay"), ok("abort"), ok("max_active_faults"),
	}, note: "headers, upstream_cluster, downstream_nodes, response_rate_limit and the runtime keys are refused for now"},
	{name: "envoy.extensions.filters.common.fault.v3.FaultDelay", fields: []field{
		ok("fixed_delay"), okNote("header_delay", "x-envoy-fault-delay-request (ms), at most 1h"),
		okNote("percentage", "x-envoy-fault-delay-request-percentage lowers it"),
	}},
	{name: "envoy.extensions.filters.common.fault.v3.FaultDelay.HeaderDelay", fields: nil},
	{name: "envoy.extensions.filters.http.fault.v3.FaultAbort", fields: []field{
		ok("http_status"), okNote("grpc_status", "a trailers-only response"),
		okNote("header_abort", "x-envoy-fault-abort-request, x-envoy-fault-abort-grpc-request"),
		okNote("percentage", "x-envoy-fault-abort-request-percentage lowers it"),
	}},
	{name: "envoy.extensions.filters.http.fault.v3.FaultAbort.HeaderAbort", fields: nil},
	{name: "envoy.extensions.filters.http.cors.v3.Cors", fields: nil,
		note: "policies come from typed_per_filter_config (CorsPolicy); the route's deprecated cors field is not read"},
	{name: "envoy.extensions.filters.http.cors.v3.CorsPolicy", fields: []field{
		okNote("allow_origin_string_match", "an exact \"*\" allows every origin"), ok("allow_methods"),
		ok("allow_headers"), ok("expose_headers"), ok("max_age"), ok("allow_credentials"),
		okNote("filter_enabled", "default_value; 100% when unset"), okNote("shadow_enabled", "default_value; 0% when unset"),
		ok("allow_private_network_access"), ok("forward_not_matching_preflights"),
	}},
	{name: "envoy.extensions.filters.http.health_check.v3.HealthCheck", fields: []field{
		ok("pass_through_mode"), okNote("cache_time", "pass-through mode only"), ok("cluster_min_healthy_percentages"),
		okNote("headers", "string_match, exact_match, present_match, invert_match; :path, :method, :authority"),
	}},
	{name: "envoy.extensions.filters.http.buffer.v3.Buffer", fields: oks("max_request_bytes")},
	{name: "envoy.extensions.filters.http.buffer.v3.BufferPerRoute", fields: oks("disabled", "buffer")},
}

// httpStatus renders an HttpStatus as {code: <number>}: its code is an enum
// whose names (TooManyRequests) sluice does not use.
func httpStatus(t *translator, m protoreflect.Message, env, slu string) any {
	t.paths[slu] = env
	fd := m.Descriptor().Fields().ByName("code")
	return map[string]any{"code": int64(m.Get(fd).Enum())}
}
