package cors

import (
	"github.com/sluice-proxy/sluice/config"
)

// Config is Envoy's envoy.extensions.filters.http.cors.v3.Cors, the filter's
// entry in http_filters: it has no fields; policies live on routes.
type Config struct{}

// Policy is Envoy's envoy.extensions.filters.http.cors.v3.CorsPolicy, set in
// a route's, virtual host's or route configuration's typed_per_filter_config
// (the most specific wins).
type Policy struct {
	// AllowOriginStringMatch lists the origins allowed; an exact "*"
	// allows every origin.
	AllowOriginStringMatch []config.StringMatcher `yaml:"allow_origin_string_match" json:"allow_origin_string_match,omitempty"`
	// AllowMethods is the access-control-allow-methods value.
	AllowMethods string `yaml:"allow_methods" json:"allow_methods,omitempty"`
	// AllowHeaders is the access-control-allow-headers value.
	AllowHeaders string `yaml:"allow_headers" json:"allow_headers,omitempty"`
	// ExposeHeaders is the access-control-expose-headers value.
	ExposeHeaders string `yaml:"expose_headers" json:"expose_headers,omitempty"`
	// MaxAge is the access-control-max-age value (seconds).
	MaxAge string `yaml:"max_age" json:"max_age,omitempty"`
	// AllowCredentials adds access-control-allow-credentials: true.
	AllowCredentials *bool `yaml:"allow_credentials" json:"allow_credentials,omitempty"`
	// FilterEnabled is the fraction of requests the policy is enforced on;
	// 100% when unset.
	FilterEnabled *config.RuntimeFraction `yaml:"filter_enabled" json:"filter_enabled,omitempty"`
	// ShadowEnabled is the fraction of requests (not enforced) whose origin
	// is still checked and counted; 0% when unset.
	ShadowEnabled *config.RuntimeFraction `yaml:"shadow_enabled" json:"shadow_enabled,omitempty"`
	// AllowPrivateNetworkAccess answers a preflight's
	// access-control-request-private-network: true with
	// access-control-allow-private-network: true.
	AllowPrivateNetworkAccess *bool `yaml:"allow_private_network_access" json:"allow_private_network_access,omitempty"`
	// ForwardNotMatchingPreflights forwards preflights whose origin is not
	// allowed upstream (true, the default) or answers them 200 without
	// CORS headers itself (false).
	ForwardNotMatchingPreflights *bool `yaml:"forward_not_matching_preflights" json:"forward_not_matching_preflights,omitempty"`
}

// Validate checks the fractions' denominators.
func (p *Policy) Validate(path string, errs *config.Errors) {
	for name, f := range map[string]*config.RuntimeFraction{"filter_enabled": p.FilterEnabled, "shadow_enabled": p.ShadowEnabled} {
		if f != nil && f.DefaultValue.Scale() == 0 {
			errs.Add(config.Join(path, name+".default_value.denominator"), "unknown denominator %q", f.DefaultValue.Denominator)
		}
	}
}
