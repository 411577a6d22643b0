package envoy

import (
	// The typed_config type of ext_authz.
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
)

const extAuthzPkg = "envoy.extensions.filters.http.ext_authz.v3."

// extAuthzSpecs: the ext_authz HTTP filter (filters/http/extauthz) and its
// per-route config.
var extAuthzSpecs = []message{
	{name: extAuthzPkg + "ExtAuthz", fields: []field{
		okNote("grpc_service", "envoy_grpc through a cluster; timeout default 200ms"),
		okNote("http_service", "through server_uri.cluster"),
		okNote("transport_api_version", "V3"), ok("failure_mode_allow"), ok("failure_mode_allow_header_add"),
		ok("with_request_body"), ok("clear_route_cache"), okNote("status_on_error", "default 403"),
		okNote("metadata_context_namespaces", "dynamic metadata, e.g. jwt_authn's payload"),
		okNote("include_peer_certificate", "URL-encoded PEM in source.certificate"),
		okNote("stat_prefix", "cluster.<route's cluster>.ext_authz.<stat_prefix>.*"),
		okNote("allowed_headers", "gRPC checks: the client headers sent"), ok("disallowed_headers"),
	}, note: "filter_enabled, deny_at_disable, typed/route metadata namespaces and header mutation rules are refused"},
	{name: extAuthzPkg + "HttpService", fields: []field{
		okNote("server_uri", "cluster and timeout; the check goes to the client's Host"),
		ok("path_prefix"), ok("authorization_request"), ok("authorization_response"),
	}},
	{name: extAuthzPkg + "AuthorizationRequest", fields: []field{
		okNote("allowed_headers", "Authorization, :method, :path and Host always"), ok("headers_to_add"),
	}},
	{name: extAuthzPkg + "AuthorizationResponse", fields: oks("allowed_upstream_headers", "allowed_upstream_headers_to_append",
		"allowed_client_headers", "allowed_client_headers_on_success", "dynamic_metadata_from_headers")},
	{name: extAuthzPkg + "BufferSettings", fields: []field{
		ok("max_request_bytes"), okNote("allow_partial_message", "else 413"), okNote("pack_as_bytes", "raw_body"),
	}},
	{name: extAuthzPkg + "ExtAuthzPerRoute", fields: oks("disabled", "check_settings")},
	{name: extAuthzPkg + "CheckSettings", fields: []field{
		ok("context_extensions"), ok("disable_request_body_buffering"),
	}, note: "a per-route service or with_request_body is refused"},
	{name: "envoy.type.matcher.v3.ListStringMatcher", fields: oks("patterns")},
}

// Added to the shared tables here (as spec_http_grpc.go does) so that
// filters added in parallel do not edit the same lines.
func init() {
	httpFilterNames[extAuthzPkg+"ExtAuthz"] = "ext_authz"
	for name, m := range indexSpecs(extAuthzSpecs) {
		if specs[name] != nil {
			panic("envoy: message " + string(name) + " in two tables")
		}
		specs[name] = m
	}
}
