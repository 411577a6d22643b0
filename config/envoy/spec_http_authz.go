package envoy

import (
	// The typed_config types of jwt_authn and the HTTP rbac filter.
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/rbac/v3"
)

const jwtPkg = "envoy.extensions.filters.http.jwt_authn.v3."

// authzSpecs: jwt_authn and the HTTP rbac filter (whose policy vocabulary
// is the network rbac's, with the HTTP rules added below).
var authzSpecs = []message{
	{name: jwtPkg + "JwtAuthentication", fields: []field{
		ok("providers"), ok("rules"), ok("requirement_map"),
		ignored("bypass_cors_preflight", "no cors filter yet: OPTIONS requests are checked like others"),
	}},
	{name: jwtPkg + "JwtProvider", fields: []field{
		ok("issuer"), ok("audiences"), okNote("local_jwks", "read at load (inline or file)"), ok("remote_jwks"),
		ok("from_headers"), ok("from_params"), ok("from_cookies"), okNote("forward", "removes the token's header when false"),
		okNote("forward_payload_header", "base64url without padding"), okNote("claim_to_headers", "nested claims with a.b"),
		okNote("payload_in_metadata", "read by the rbac HTTP filter's metadata principal"), ok("clock_skew_seconds"),
	}},
	{name: jwtPkg + "RemoteJwks", fields: []field{
		okNote("http_uri", "connects through cluster (uri's host when no such cluster)"), okNote("cache_duration", "default 5m"),
		okNote("async_fetch", "cached keys are served while a refresh runs"), okNote("retry_policy", "num_retries only"),
	}},
	{name: jwtPkg + "JwksAsyncFetch", fields: []field{
		ignored("fast_listener", "listeners never wait for a fetch"),
		ignored("failed_refetch_duration", "a failed fetch is retried by the next request"),
	}},
	{name: "envoy.config.core.v3.HttpUri", fields: oks("uri", "cluster", "timeout")},
	{name: "envoy.config.core.v3.RetryPolicy", fields: []field{
		ok("num_retries"), ignored("retry_back_off", "retries follow at once, each bounded by the fetch timeout"),
	}},
	{name: jwtPkg + "JwtHeader", fields: oks("name", "value_prefix")},
	{name: jwtPkg + "JwtClaimToHeader", fields: oks("header_name", "claim_name")},
	{name: jwtPkg + "RequirementRule", fields: []field{okNote("match", "prefix or path"), ok("requires")}},
	{name: jwtPkg + "JwtRequirement", fields: oks("provider_name", "requires_any", "requires_all", "allow_missing", "allow_missing_or_failed")},
	{name: jwtPkg + "JwtRequirementOrList", fields: oks("requirements")},
	{name: jwtPkg + "JwtRequirementAndList", fields: oks("requirements")},
	{name: jwtPkg + "PerRouteConfig", fields: oks("disabled", "requirement_name")},

	{name: "envoy.extensions.filters.http.rbac.v3.RBAC", fields: oks(
		"rules", "rules_stat_prefix", "shadow_rules", "shadow_rules_stat_prefix")},
	{name: "envoy.type.matcher.v3.PathMatcher", fields: oks("path")},
}

// registerAuthz adds the tables, the filters' @types and the HTTP rules of
// the rbac vocabulary before spec.go's init indexes them (as
// registerZooKeeper does), keeping this loader in its own file.
var _ = registerAuthz()

func registerAuthz() bool {
	httpSpecs = append(httpSpecs, authzSpecs...)
	httpFilterNames[jwtPkg+"JwtAuthentication"] = "jwt_authn"
	httpFilterNames["envoy.extensions.filters.http.rbac.v3.RBAC"] = "rbac"
	for i := range rbacSpecs {
		switch rbacSpecs[i].name {
		case "envoy.config.rbac.v3.Permission":
			rbacSpecs[i].fields = append(rbacSpecs[i].fields, okNote("header", "HTTP rbac only"), okNote("url_path", "HTTP rbac only"))
		case "envoy.config.rbac.v3.Principal":
			rbacSpecs[i].fields = append(rbacSpecs[i].fields, okNote("header", "HTTP rbac only"), okNote("metadata", "HTTP rbac only: jwt_authn's payload"))
		}
	}
	return true
}
