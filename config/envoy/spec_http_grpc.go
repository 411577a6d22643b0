package envoy

import (
	// The typed_config type of grpc_stats.
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/grpc_stats/v3"
)

// grpcHTTPSpecs: the gRPC HTTP filters' configs (filters/http/grpcstats).
var grpcHTTPSpecs = []message{
	{name: "envoy.extensions.filters.http.grpc_stats.v3.FilterConfig", fields: []field{
		ignored("emit_filter_state", "sluice has no filter state objects; the counts are in the stats"),
		ok("individual_method_stats_allowlist"), okNote("stats_for_all_methods", "unset: false, Envoy's current default"),
		okNote("enable_upstream_stats", "upstream_rq_time from the request's start to the response's end"),
		ok("replace_dots_in_grpc_service_name"),
	}},
	{name: "envoy.config.core.v3.GrpcMethodList", fields: oks("services")},
	{name: "envoy.config.core.v3.GrpcMethodList.Service", fields: oks("name", "method_names")},
}

// Added to the shared tables here (as spec_thrift.go does) so that
// filters added in parallel do not edit the same lines.
func init() {
	httpFilterNames["envoy.extensions.filters.http.grpc_stats.v3.FilterConfig"] = "grpc_stats"
	for name, m := range indexSpecs(grpcHTTPSpecs) {
		if specs[name] != nil {
			panic("envoy: message " + string(name) + " in two tables")
		}
		specs[name] = m
	}
}
