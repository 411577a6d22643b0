package envoy

import (
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/sluice-proxy/sluice/config"

	// The typed_config types of the HTTP filters below.
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/compression/gzip/compressor/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/compression/gzip/decompressor/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/compression/zstd/compressor/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/buffer/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/compressor/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/cors/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/decompressor/v3"
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
	httpFilterNames["envoy.extensions.filters.http.compressor.v3.Compressor"] = "compressor"
	httpFilterNames["envoy.extensions.filters.http.decompressor.v3.Decompressor"] = "decompressor"
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
	// envoy.type.v3.TokenBucket is shared with the network local_ratelimit (spec_listener.go).
	{name: "envoy.type.v3.HttpStatus", translate: httpStatus, fields: oks("code")},
	{name: "envoy.extensions.filters.http.fault.v3.HTTPFault", fields: []field{
		ok("delay"), ok("abort"), ok("max_active_faults"),
		okNote("headers", "string_match, exact_match, present_match, invert_match; :path, :method, :authority"),
	}, note: "upstream_cluster, downstream_nodes, response_rate_limit and the runtime keys are refused for now"},
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
	{name: "envoy.extensions.filters.http.compressor.v3.Compressor", translate: compressorFilter, fields: []field{
		own("compressor_library", "gzip or zstd (envoy.extensions.compression.{gzip,zstd}.compressor.v3)"),
		ok("response_direction_config"),
	}, note: "response direction only; the deprecated top-level fields and request_direction_config are refused"},
	{name: "envoy.extensions.filters.http.compressor.v3.CompressorPerRoute", fields: oks("disabled"),
		note: "overrides are refused for now"},
	{name: "envoy.extensions.filters.http.compressor.v3.Compressor.ResponseDirectionConfig", fields: oks(
		"common_config", "disable_on_etag_header", "remove_accept_encoding_header", "uncompressible_response_codes")},
	{name: "envoy.extensions.filters.http.compressor.v3.Compressor.CommonDirectionConfig", fields: oks(
		"enabled", "min_content_length", "content_type")},
	// envoy.config.core.v3.RuntimeFeatureFlag is shared (spec_listener.go).
	{name: "envoy.config.core.v3.TypedExtensionConfig", fields: oks("name", "typed_config")},
	{name: "envoy.extensions.compression.gzip.compressor.v3.Gzip", fields: []field{
		ok("compression_level"),
		ignored("memory_level", "Go's compress/gzip has no such knob"),
		ignored("window_bits", "Go's compress/gzip always uses a 32KiB window"),
		ignored("compression_strategy", "Go's compress/gzip has no such knob"),
		ignored("chunk_size", "output is flushed by the writer"),
	}},
	{name: "envoy.extensions.filters.http.decompressor.v3.Decompressor", translate: decompressorFilter, fields: []field{
		own("decompressor_library", "gzip (envoy.extensions.compression.gzip.decompressor.v3.Gzip)"),
		ok("request_direction_config"), ok("response_direction_config"),
	}},
	{name: "envoy.extensions.filters.http.decompressor.v3.Decompressor.RequestDirectionConfig", fields: oks(
		"common_config", "advertise_accept_encoding")},
	{name: "envoy.extensions.filters.http.decompressor.v3.Decompressor.ResponseDirectionConfig", fields: oks("common_config")},
	{name: "envoy.extensions.filters.http.decompressor.v3.Decompressor.CommonDirectionConfig", fields: oks(
		"enabled", "ignore_no_transform_header")},
	{name: "envoy.extensions.compression.zstd.compressor.v3.Zstd", fields: []field{
		okNote("compression_level", "mapped onto klauspost/compress/zstd's four levels"),
		ignored("enable_checksum", "klauspost/compress/zstd writes checksums"),
		ignored("strategy", "klauspost/compress/zstd has no such knob"),
		ignored("chunk_size", "output is flushed by the writer"),
	}},
	{name: "envoy.extensions.compression.gzip.decompressor.v3.Gzip", fields: []field{
		ignored("window_bits", "Go's compress/gzip inflates any window"),
		ignored("chunk_size", "bodies are streamed"),
		ignored("max_inflate_ratio", "bodies are streamed, not held"),
	}},
}

// httpStatus renders an HttpStatus as {code: <number>}: its code is an enum
// whose names (TooManyRequests) sluice does not use.
func httpStatus(t *translator, m protoreflect.Message, env, slu string) any {
	t.paths[slu] = env
	fd := m.Descriptor().Fields().ByName("code")
	return map[string]any{"code": int64(m.Get(fd).Enum())}
}

// compressorFilter renders a Compressor with its library as
// {name, gzip: {...}}.
func compressorFilter(t *translator, m protoreflect.Message, env, slu string) any {
	return withLibrary(t, m, env, slu, "compressor_library", map[protoreflect.FullName]string{
		"envoy.extensions.compression.gzip.compressor.v3.Gzip": "gzip",
		"envoy.extensions.compression.zstd.compressor.v3.Zstd": "zstd",

		"envoy.extensions.compression.brotli.compressor.v3.Brotli": "brotli", // spec_http_brotli.go
	})
}

// decompressorFilter is compressorFilter for a Decompressor.
func decompressorFilter(t *translator, m protoreflect.Message, env, slu string) any {
	return withLibrary(t, m, env, slu, "decompressor_library", map[protoreflect.FullName]string{
		"envoy.extensions.compression.gzip.decompressor.v3.Gzip": "gzip",

		"envoy.extensions.compression.brotli.decompressor.v3.Brotli": "brotli", // spec_http_brotli.go
	})
}

// withLibrary copies m's fields and renders its library field (a
// TypedExtensionConfig) as {name, <kind>: {...}}, kind from libs.
func withLibrary(t *translator, m protoreflect.Message, env, slu string, field protoreflect.Name, libs map[protoreflect.FullName]string) any {
	out := t.copyFields(m, specs[m.Descriptor().FullName()], env, slu)
	fd := m.Descriptor().Fields().ByName(field)
	if !m.Has(fd) {
		return out
	}
	lib := m.Get(fd).Message()
	lenv, lslu := config.Join(env, string(field)), config.Join(slu, string(field))
	t.paths[lslu] = lenv
	lf := lib.Descriptor().Fields()
	l := map[string]any{"name": lib.Get(lf.ByName("name")).String()}
	if tc := lf.ByName("typed_config"); lib.Has(tc) {
		inner, err := unpack(lib.Get(tc).Message())
		if err != nil {
			t.errs.Add(config.Join(lenv, "typed_config"), "%v", err)
			return out
		}
		kind, ok := libs[inner.Descriptor().FullName()]
		if !ok {
			t.errs.Add(config.Join(lenv, "typed_config.@type"), "%s is not a library sluice has here", inner.Descriptor().FullName())
			return out
		}
		l[kind] = t.message(inner, config.Join(lenv, "typed_config"), config.Join(lslu, kind))
	}
	out[string(field)] = l
	return out
}
