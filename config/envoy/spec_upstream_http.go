package envoy

import (
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3" // HttpProtocolOptions
)

// upstreamHTTPSpecs: a cluster's typed_extension_protocol_options with
// envoy.extensions.upstreams.http.v3.HttpProtocolOptions, read by the HTTP
// pools (cluster/httppool). The config.core.v3 HTTP option messages are
// listed with the fields an upstream pool uses; http_connection_manager
// adds its own fields to the same entries.
var upstreamHTTPSpecs = []message{
	{name: "envoy.extensions.upstreams.http.v3.HttpProtocolOptions", fields: []field{
		ok("common_http_protocol_options"),
		ok("explicit_http_config"),
		okNote("use_downstream_protocol_config", "HTTP/1.1 or HTTP/2 as the client spoke"),
		okNote("auto_config", "ALPN over TLS; HTTP/1.1 in plain text"),
		okNote("upstream_http_protocol_options", "SNI from the request's Host; connections pooled per SNI"),
	}},
	{name: "envoy.config.core.v3.UpstreamHttpProtocolOptions", fields: oks("auto_sni", "auto_san_validation", "override_auto_sni_header")},
	{name: "envoy.extensions.upstreams.http.v3.HttpProtocolOptions.ExplicitHttpConfig", fields: oks("http_protocol_options", "http2_protocol_options")},
	{name: "envoy.extensions.upstreams.http.v3.HttpProtocolOptions.UseDownstreamHttpConfig", fields: oks("http_protocol_options", "http2_protocol_options")},
	{name: "envoy.extensions.upstreams.http.v3.HttpProtocolOptions.AutoHttpConfig", fields: oks("http_protocol_options", "http2_protocol_options")},
	{name: "envoy.config.core.v3.HttpProtocolOptions", fields: []field{
		okNote("idle_timeout", "default 1h upstream"),
		ok("max_connection_duration"),
		ok("max_requests_per_connection"),
		okNote("max_headers_count", "http_connection_manager (downstream)"),
		okNote("max_stream_duration", "http_connection_manager (downstream)"),
		okNote("headers_with_underscores_action", "http_connection_manager: ALLOW, REJECT_REQUEST, DROP_HEADER"),
	}},
	{name: "envoy.config.cluster.v3.Cluster.PreconnectPolicy", fields: []field{
		okNote("per_upstream_preconnect_ratio", "HTTP/2 pools; sluice's default without the block is 2, Envoy's 1"),
	}, note: "predictive_preconnect_ratio is refused"},
	{name: "envoy.config.core.v3.Http1ProtocolOptions", note: "upstream: selects HTTP/1.1", fields: []field{
		okNote("accept_http_10", "http_connection_manager (downstream)"),
		ignored("enable_trailers", "trailers are always forwarded"),
	}},
	{name: "envoy.config.core.v3.Http2ProtocolOptions", fields: []field{
		okNote("max_concurrent_streams", "streams per upstream connection before the pool opens another"),
		okNote("initial_stream_window_size", "Go's HTTP/2 client caps windows below 4 MiB"),
		okNote("initial_connection_window_size", "Go's HTTP/2 client caps windows below 4 MiB"),
	}},
}
