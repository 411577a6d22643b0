package envoy

// xdsRateLimitSpecs: an ApiConfigSource's rate_limit_settings, read by
// config/xds (a token bucket on the requests sent to the control plane).
var xdsRateLimitSpecs = []message{
	{name: "envoy.config.core.v3.RateLimitSettings", fields: []field{
		own("max_tokens", "default 100"), own("fill_rate", "requests a second, default 10"),
	}},
}
