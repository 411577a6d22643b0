package envoy

import (
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/sluice-proxy/sluice/config"
)

// routeSpecs: envoy.config.route.v3.RouteConfiguration as it appears inline
// in http_connection_manager.route_config, translated into sluice's
// config.RouteConfiguration (the same field names).
var routeSpecs = []message{
	{name: "envoy.config.route.v3.RouteConfiguration", fields: []field{
		ok("name"), ok("virtual_hosts"), ok("internal_only_headers"),
		ok("request_headers_to_add"), ok("request_headers_to_remove"),
		ok("response_headers_to_add"), ok("response_headers_to_remove"),
		ok("most_specific_header_mutations_wins"), ok("ignore_port_in_host_matching"),
		okNote("request_mirror_policies", "for virtual hosts and routes without their own"),
		okNote("typed_per_filter_config", "kept by filter name for the HTTP filters"),
		ignored("validate_clusters", "sluice always checks that the clusters routes name exist"),
	}},
	{name: "envoy.config.route.v3.VirtualHost", fields: []field{
		ok("name"), okNote("domains", "exact, *suffix, prefix*, *"), ok("routes"),
		ok("request_headers_to_add"), ok("request_headers_to_remove"),
		ok("response_headers_to_add"), ok("response_headers_to_remove"),
		okNote("retry_policy", "used by routes without their own"), ok("typed_per_filter_config"),
		okNote("per_request_buffer_limit_bytes", "the request body kept for retries and mirrors"),
		okNote("request_body_buffer_limit", "wins over per_request_buffer_limit_bytes"),
		okNote("request_mirror_policies", "for routes without their own"),
		ok("include_request_attempt_count"), ok("include_attempt_count_in_response"), ok("include_is_timeout_retry_header"),
		okNote("virtual_clusters", "vhost.<vhost>.vcluster.<vc>.* stats"),
		okNote("require_tls", "judged by x-forwarded-proto; EXTERNAL_ONLY spares x-envoy-internal requests"),
	}},
	{name: "envoy.config.route.v3.VirtualCluster", fields: oks("name", "headers")},
	{name: "envoy.config.route.v3.Route", fields: []field{
		ok("name"), ok("match"), ok("route"), ok("redirect"), ok("direct_response"),
		ok("request_headers_to_add"), ok("request_headers_to_remove"),
		ok("response_headers_to_add"), ok("response_headers_to_remove"), ok("typed_per_filter_config"),
		ignored("metadata", "nothing in sluice reads route metadata yet"),
		okNote("decorator", "names the route's tracing span"),
		okNote("per_request_buffer_limit_bytes", "the request body kept for retries and mirrors"),
		okNote("request_body_buffer_limit", "wins over per_request_buffer_limit_bytes"),
	}},
	{name: "envoy.config.route.v3.RouteMatch", fields: []field{
		okNote("prefix", "matched against the path; a '?' in it also matches into the query"),
		okNote("path", "the path without the query"), ok("safe_regex"), ok("path_separated_prefix"),
		ok("case_sensitive"), okNote("headers", "repeated headers are joined with ',' as Envoy does"),
		okNote("query_parameters", "the first occurrence, percent-decoded"), ok("grpc"),
		okNote("runtime_fraction", "default_value; sluice has no runtime"),
		okNote("connect_matcher", "CONNECT requests only (spec_http_egress.go)"),
	}},
	{name: "envoy.config.route.v3.RouteMatch.GrpcRouteMatchOptions", fields: nil},
	{name: "envoy.config.route.v3.HeaderMatcher", fields: oks(
		"name", "exact_match", "safe_regex_match", "range_match", "present_match", "prefix_match",
		"suffix_match", "contains_match", "string_match", "invert_match", "treat_missing_header_as_empty")},
	{name: "envoy.config.route.v3.QueryParameterMatcher", fields: oks("name", "string_match", "present_match")},
	{name: "envoy.config.core.v3.RuntimeFractionalPercent", fields: []field{
		ok("default_value"), ignored("runtime_key", "sluice has no runtime: default_value applies"),
	}},
	{name: "envoy.type.v3.FractionalPercent", fields: oks("numerator", "denominator")},
	{name: "envoy.config.route.v3.RouteAction", fields: []field{
		ok("cluster"), ok("cluster_header"), ok("weighted_clusters"),
		ok("prefix_rewrite"), ok("regex_rewrite"), ok("host_rewrite_literal"),
		okNote("auto_host_rewrite", "exposed to the connection manager, which knows the upstream host"),
		ok("host_rewrite_header"), okNote("host_rewrite_path_regex", "on the path before path rewrites"),
		ok("append_x_forwarded_host"), ok("cluster_not_found_response_code"), okNote("timeout", "15s when unset; 0s disables"), ok("idle_timeout"),
		ok("retry_policy"), ok("request_mirror_policies"),
		okNote("max_grpc_timeout", "grpc-timeout of gRPC requests as the route timeout, sent upstream as grpc-timeout"),
		ok("grpc_timeout_offset"), ok("max_stream_duration"),
		okNote("hash_policy", "header, cookie (without generating one), connection_properties, query_parameter; xxHash64 folded as Envoy does"),
		okNote("upgrade_configs", "CONNECT tunnels to the cluster; other types recorded (spec_http_egress.go)"),
	}},
	{name: "envoy.config.route.v3.RouteAction.MaxStreamDuration", fields: []field{
		okNote("max_stream_duration", "from the stream's start, replacing the connection manager's; expiry: downstream_rq_max_duration_reached, 504 or 408 (gRPC: DEADLINE_EXCEEDED)"),
		ok("grpc_timeout_header_max"), ok("grpc_timeout_header_offset"),
	}},
	{name: "envoy.config.route.v3.WeightedCluster", fields: oks("clusters", "total_weight")},
	{name: "envoy.config.route.v3.WeightedCluster.ClusterWeight", fields: oks("name", "weight"),
		note: "per-cluster header mutations and typed_per_filter_config are refused for now"},
	{name: "envoy.type.matcher.v3.RegexMatchAndSubstitute", fields: oks("pattern", "substitution")},
	{name: "envoy.config.route.v3.RetryPolicy", fields: []field{
		okNote("retry_on", "exposed to the router filter as a list"), ok("num_retries"), ok("per_try_timeout"),
		ok("per_try_idle_timeout"), ok("retry_back_off"), ok("retriable_status_codes"),
		ok("host_selection_retry_max_attempts"), okNote("retriable_headers", "response headers, under retry_on retriable-headers"),
		okNote("retry_host_predicate", "previous_hosts: retries avoid hosts tried"),
	}},
	{name: "envoy.config.route.v3.RetryPolicy.RetryBackOff", fields: oks("base_interval", "max_interval")},
	{name: "envoy.config.route.v3.RetryPolicy.RetryHostPredicate", fields: []field{
		okNote("name", "envoy.retry_host_predicates.previous_hosts only"), ok("typed_config"),
	}},
	{name: "envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate", fields: nil},
	{name: "envoy.config.route.v3.RouteAction.RequestMirrorPolicy", fields: []field{
		ok("cluster"), ok("runtime_fraction"), ignored("trace_sampled", "sluice does not trace yet"),
		ok("cluster_header"), ok("disable_shadow_host_suffix_append"),
	}},
	{name: "envoy.config.route.v3.RouteAction.HashPolicy", fields: oks(
		"header", "cookie", "connection_properties", "query_parameter", "terminal")},
	{name: "envoy.config.route.v3.RouteAction.HashPolicy.Header", fields: oks("header_name")},
	{name: "envoy.config.route.v3.RouteAction.HashPolicy.Cookie", fields: []field{
		ok("name"), okNote("ttl", "parsed; sluice does not generate the cookie yet"), ok("path"),
	}},
	{name: "envoy.config.route.v3.RouteAction.HashPolicy.ConnectionProperties", fields: oks("source_ip")},
	{name: "envoy.config.route.v3.RouteAction.HashPolicy.QueryParameter", fields: oks("name")},
	{name: "envoy.config.route.v3.RedirectAction", fields: oks(
		"https_redirect", "scheme_redirect", "host_redirect", "port_redirect", "path_redirect",
		"prefix_rewrite", "regex_rewrite", "response_code", "strip_query")},
	{name: "envoy.config.route.v3.DirectResponseAction", translate: directResponse, fields: []field{
		ok("status"), own("body", "any DataSource, read at load"),
	}},
	{name: "envoy.config.core.v3.HeaderValueOption", fields: []field{
		okNote("header", "literal values: Envoy's %VARIABLE% substitutions are not supported yet"),
		ok("append"), ok("append_action"), ok("keep_empty_value"),
	}},
	{name: "envoy.config.core.v3.HeaderValue", fields: oks("key", "value")},
}

// directResponse copies status and reads body (a DataSource, which the
// TLS table translates to its content) into sluice's body.inline_string.
func directResponse(t *translator, m protoreflect.Message, env, slu string) any {
	out := t.copyFields(m, specs[m.Descriptor().FullName()], env, slu)
	if fd := m.Descriptor().Fields().ByName("body"); m.Has(fd) {
		body := t.message(m.Get(fd).Message(), config.Join(env, "body"), config.Join(slu, "body"))
		out["body"] = map[string]any{"inline_string": body}
	}
	return out
}
