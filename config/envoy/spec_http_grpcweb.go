package envoy

import (
	// The typed_config types of grpc_web and grpc_http1_bridge.
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/grpc_http1_bridge/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/grpc_web/v3"
)

// grpcBridgeSpecs: the filters that let non-gRPC clients reach gRPC
// upstreams (filters/http/grpcweb, filters/http/grpchttp1bridge).
var grpcBridgeSpecs = []message{
	{name: "envoy.extensions.filters.http.grpc_web.v3.GrpcWeb", fields: nil,
		note: "text responses are base64 padded at each flush rather than per message"},
	{name: "envoy.extensions.filters.http.grpc_http1_bridge.v3.Config", fields: []field{
		okNote("upgrade_protobuf_to_grpc", "request and response held up to 1 MiB"),
		ok("ignore_query_parameters"),
	}},
}

// Added to the shared tables here (as spec_http_grpc.go does) so that
// filters added in parallel do not edit the same lines.
func init() {
	httpFilterNames["envoy.extensions.filters.http.grpc_web.v3.GrpcWeb"] = "grpc_web"
	httpFilterNames["envoy.extensions.filters.http.grpc_http1_bridge.v3.Config"] = "grpc_http1_bridge"
	for name, m := range indexSpecs(grpcBridgeSpecs) {
		if specs[name] != nil {
			panic("envoy: message " + string(name) + " in two tables")
		}
		specs[name] = m
	}
}
