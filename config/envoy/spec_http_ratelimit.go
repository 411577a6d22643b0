package envoy

import (
	// The typed_config type of the global ratelimit filter.
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ratelimit/v3"
)

const rlRoute = "envoy.config.route.v3.RateLimit"

// rateLimitSpecs: the global ratelimit HTTP filter (filters/http/ratelimit)
// and the routes' rate_limits actions it reads.
var rateLimitSpecs = []message{
	{name: "envoy.extensions.filters.http.ratelimit.v3.RateLimit", fields: []field{
		ok("domain"), okNote("stage", "selects the routes' rate_limits of that stage"),
		okNote("request_type", "both, internal (x-envoy-internal: true), external"),
		okNote("timeout", "default 20ms"), okNote("failure_mode_deny", "status_on_error (500)"),
		ok("rate_limit_service"), okNote("enable_x_ratelimit_headers", "OFF, DRAFT_VERSION_03"),
		ok("disable_x_envoy_ratelimited_header"), ok("rate_limited_status"), ok("status_on_error"),
	}, note: "response_headers_to_add, stat_prefix, filter_enabled/enforced, failure_mode_deny_percent, rate_limits in the filter and rate_limited_as_resource_exhausted are refused"},
	{name: "envoy.config.ratelimit.v3.RateLimitServiceConfig", fields: []field{
		okNote("grpc_service", "envoy_grpc"), okNote("transport_api_version", "V3"),
	}},
	{name: rlRoute, fields: []field{
		ok("stage"), ignored("disable_key", "sluice has no runtime overrides"), ok("actions"),
	}, note: "limit (dynamic metadata overrides) is refused"},
	{name: rlRoute + ".Action", fields: oks("source_cluster", "destination_cluster", "request_headers",
		"remote_address", "generic_key", "header_value_match")},
	{name: rlRoute + ".Action.SourceCluster", fields: nil},
	{name: rlRoute + ".Action.DestinationCluster", fields: nil},
	{name: rlRoute + ".Action.RemoteAddress", fields: nil},
	{name: rlRoute + ".Action.RequestHeaders", fields: oks("header_name", "descriptor_key", "skip_if_absent")},
	{name: rlRoute + ".Action.GenericKey", fields: oks("descriptor_value", "descriptor_key")},
	{name: rlRoute + ".Action.HeaderValueMatch", fields: oks("descriptor_key", "descriptor_value", "expect_match", "headers")},
	{name: "envoy.extensions.common.ratelimit.v3.LocalRateLimitDescriptor", fields: oks("entries", "token_bucket")},
	{name: "envoy.extensions.common.ratelimit.v3.RateLimitDescriptor.Entry", fields: oks("key", "value")},
}

// Added to the shared tables here (as spec_http_grpc.go does) so that
// filters added in parallel do not edit the same lines; rate_limits joins
// the route tables' fields the same way.
func init() {
	httpFilterNames["envoy.extensions.filters.http.ratelimit.v3.RateLimit"] = "ratelimit"
	for name, m := range indexSpecs(rateLimitSpecs) {
		if specs[name] != nil {
			panic("envoy: message " + string(name) + " in two tables")
		}
		specs[name] = m
	}
	specs["envoy.config.route.v3.RouteAction"].fields = append(specs["envoy.config.route.v3.RouteAction"].fields,
		okNote("rate_limits", "descriptors for the ratelimit filter"))
	specs["envoy.config.route.v3.VirtualHost"].fields = append(specs["envoy.config.route.v3.VirtualHost"].fields,
		okNote("rate_limits", "for the routes without their own"))
	// local_ratelimit's descriptors and stage read the same route actions.
	lrl := specs["envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit"]
	for i := range lrl.fields {
		if lrl.fields[i].name == "stage" {
			lrl.fields[i] = okNote("stage", "selects the routes' rate_limits of that stage")
		}
	}
	lrl.fields = append(lrl.fields, okNote("descriptors", "exact entries; a request takes from each matching bucket and token_bucket"))
	lrl.note = "rate_limits in the filter and local_rate_limit_per_downstream_connection are refused for now"
}
