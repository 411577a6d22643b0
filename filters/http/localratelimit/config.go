package localratelimit

import (
	"github.com/sluice-proxy/sluice/config"
)

// Config is Envoy's envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit.
// The same type is the filter's config in http_filters and a route's (or
// virtual host's) typed_per_filter_config entry, which replaces it for the
// requests of that route, with a bucket of its own.
type Config struct {
	// StatPrefix names the stats: <stat_prefix>.http_local_rate_limit.*.
	StatPrefix string `yaml:"stat_prefix" json:"stat_prefix"`
	// TokenBucket is the limit; without one the filter passes every request
	// (Envoy's "not configured" case, used with per-route buckets).
	TokenBucket *TokenBucket `yaml:"token_bucket" json:"token_bucket,omitempty"`
	// FilterEnabled is the fraction of requests that consult the bucket;
	// unset means none (Envoy's default: 0%).
	FilterEnabled *config.RuntimeFraction `yaml:"filter_enabled" json:"filter_enabled,omitempty"`
	// FilterEnforced is the fraction of limited requests that are refused;
	// the others are only counted. Unset means none.
	FilterEnforced *config.RuntimeFraction `yaml:"filter_enforced" json:"filter_enforced,omitempty"`
	// Status is the refusal's status code; 429 when unset.
	Status *HTTPStatus `yaml:"status" json:"status,omitempty"`
	// ResponseHeadersToAdd are added to refusals.
	ResponseHeadersToAdd []config.HeaderValueOption `yaml:"response_headers_to_add" json:"response_headers_to_add,omitempty"`
	// RequestHeadersToAddWhenNotEnforced are added to requests that were
	// limited but not enforced, before they go upstream.
	RequestHeadersToAddWhenNotEnforced []config.HeaderValueOption `yaml:"request_headers_to_add_when_not_enforced" json:"request_headers_to_add_when_not_enforced,omitempty"`
	// EnableXRatelimitHeaders is OFF (default) or DRAFT_VERSION_03, which
	// adds x-ratelimit-limit, -remaining and -reset to responses.
	EnableXRatelimitHeaders string `yaml:"enable_x_ratelimit_headers" json:"enable_x_ratelimit_headers,omitempty"`
	// Descriptors are buckets of their own for the requests whose route
	// rate_limits (of Stage) produce the same entries; such a request
	// takes a token from each matching bucket and from token_bucket.
	Descriptors []Descriptor `yaml:"descriptors" json:"descriptors,omitempty"`
	// Stage selects the routes' rate_limits of the same stage.
	Stage uint32 `yaml:"stage" json:"stage,omitempty"`
}

// Descriptor is Envoy's envoy.extensions.common.ratelimit.v3.LocalRateLimitDescriptor.
type Descriptor struct {
	Entries     []Entry      `yaml:"entries" json:"entries"`
	TokenBucket *TokenBucket `yaml:"token_bucket" json:"token_bucket"`
}

// Entry is one key and value of a descriptor.
type Entry struct {
	Key   string `yaml:"key" json:"key"`
	Value string `yaml:"value" json:"value"`
}

// TokenBucket is Envoy's envoy.type.v3.TokenBucket (config.TokenBucket).
type TokenBucket = config.TokenBucket

// HTTPStatus is Envoy's envoy.type.v3.HttpStatus.
type HTTPStatus struct {
	Code int `yaml:"code" json:"code"`
}

// Validate checks the values Envoy's proto validation checks.
func (c *Config) Validate(path string, errs *config.Errors) {
	if c.StatPrefix == "" {
		errs.Add(config.Join(path, "stat_prefix"), "required")
	}
	for name, f := range map[string]*config.RuntimeFraction{"filter_enabled": c.FilterEnabled, "filter_enforced": c.FilterEnforced} {
		if f != nil && f.DefaultValue.Scale() == 0 {
			errs.Add(config.Join(path, name+".default_value.denominator"), "unknown denominator %q", f.DefaultValue.Denominator)
		}
	}
	if c.Status != nil && (c.Status.Code < 400 || c.Status.Code > 599) {
		errs.Add(config.Join(path, "status.code"), "must be a 4xx or 5xx status, got %d", c.Status.Code)
	}
	for i, d := range c.Descriptors {
		dp := config.Index(config.Join(path, "descriptors"), i)
		if len(d.Entries) == 0 {
			errs.Add(config.Join(dp, "entries"), "at least one entry is needed")
		}
		if d.TokenBucket == nil {
			errs.Add(config.Join(dp, "token_bucket"), "required")
		}
	}
	if c.Stage > 10 {
		errs.Add(config.Join(path, "stage"), "must be at most 10, got %d", c.Stage)
	}
	switch c.EnableXRatelimitHeaders {
	case "", "OFF", "DRAFT_VERSION_03":
	default:
		errs.Add(config.Join(path, "enable_x_ratelimit_headers"), "must be OFF or DRAFT_VERSION_03, got %q", c.EnableXRatelimitHeaders)
	}
}
