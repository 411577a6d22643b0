package envoy

import (
	// The typed_config type of header_to_metadata.
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/header_to_metadata/v3"
)

const h2mPkg = "envoy.extensions.filters.http.header_to_metadata.v3."

// headerMetaSpecs: header_to_metadata (filters/http/headertometadata); the
// same Config is read in typed_per_filter_config.
var headerMetaSpecs = []message{
	{name: h2mPkg + "Config", fields: oks("request_rules", "response_rules")},
	{name: h2mPkg + "Config.Rule", fields: []field{
		ok("header"), okNote("cookie", "request rules only"), ok("on_header_present"), ok("on_header_missing"), ok("remove"),
	}},
	{name: h2mPkg + "Config.KeyValuePair", fields: []field{
		okNote("metadata_namespace", "default envoy.filters.http.header_to_metadata"), ok("key"), ok("value"),
		okNote("regex_value_rewrite", `\1 group references`), okNote("type", "STRING, NUMBER, PROTOBUF_VALUE"),
		okNote("encode", "NONE, BASE64"),
	}},
}

// Added to the shared tables here (as spec_http_grpc.go does).
func init() {
	httpFilterNames[h2mPkg+"Config"] = "header_to_metadata"
	for name, m := range indexSpecs(headerMetaSpecs) {
		if specs[name] != nil {
			panic("envoy: message " + string(name) + " in two tables")
		}
		specs[name] = m
	}
}
