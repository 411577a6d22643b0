package config

// RateLimit is Envoy's envoy.config.route.v3.RateLimit: the actions that
// build one descriptor for the ratelimit filters, on a route or a virtual
// host. A descriptor is sent only when every action produced its entry.
type RateLimit struct {
	// Stage is matched against the ratelimit filter's stage (default 0).
	Stage uint32 `yaml:"stage" json:"stage,omitempty"`
	// DisableKey is Envoy's runtime key; sluice has no runtime overrides of
	// it, so it is accepted and has no effect.
	DisableKey string            `yaml:"disable_key" json:"disable_key,omitempty"`
	Actions    []RateLimitAction `yaml:"actions" json:"actions"`
}

// RateLimitAction is Envoy's RateLimit.Action: exactly one kind.
type RateLimitAction struct {
	// SourceCluster adds ("source_cluster", the local service cluster).
	SourceCluster *struct{} `yaml:"source_cluster" json:"source_cluster,omitempty"`
	// DestinationCluster adds ("destination_cluster", the route's cluster).
	DestinationCluster *struct{} `yaml:"destination_cluster" json:"destination_cluster,omitempty"`
	// RequestHeaders adds (descriptor_key, the header's value).
	RequestHeaders *RateLimitRequestHeaders `yaml:"request_headers" json:"request_headers,omitempty"`
	// RemoteAddress adds ("remote_address", the client's address).
	RemoteAddress *struct{} `yaml:"remote_address" json:"remote_address,omitempty"`
	// GenericKey adds (descriptor_key or "generic_key", descriptor_value).
	GenericKey *RateLimitGenericKey `yaml:"generic_key" json:"generic_key,omitempty"`
	// HeaderValueMatch adds (descriptor_key or "header_match",
	// descriptor_value) when the headers match as expect_match says.
	HeaderValueMatch *RateLimitHeaderValueMatch `yaml:"header_value_match" json:"header_value_match,omitempty"`
}

// RateLimitRequestHeaders is Envoy's Action.RequestHeaders.
type RateLimitRequestHeaders struct {
	HeaderName    string `yaml:"header_name" json:"header_name"`
	DescriptorKey string `yaml:"descriptor_key" json:"descriptor_key"`
	// SkipIfAbsent leaves the entry out when the header is missing,
	// instead of the whole descriptor.
	SkipIfAbsent bool `yaml:"skip_if_absent" json:"skip_if_absent,omitempty"`
}

// RateLimitGenericKey is Envoy's Action.GenericKey.
type RateLimitGenericKey struct {
	DescriptorValue string `yaml:"descriptor_value" json:"descriptor_value"`
	DescriptorKey   string `yaml:"descriptor_key" json:"descriptor_key,omitempty"`
}

// RateLimitHeaderValueMatch is Envoy's Action.HeaderValueMatch.
type RateLimitHeaderValueMatch struct {
	DescriptorKey   string `yaml:"descriptor_key" json:"descriptor_key,omitempty"`
	DescriptorValue string `yaml:"descriptor_value" json:"descriptor_value"`
	// ExpectMatch: true (default) adds the entry when all headers match,
	// false when they do not.
	ExpectMatch *bool           `yaml:"expect_match" json:"expect_match,omitempty"`
	Headers     []HeaderMatcher `yaml:"headers" json:"headers"`
}

// Validate checks what Envoy's proto validation checks.
func (r *RateLimit) Validate(path string, errs *Errors) {
	if len(r.Actions) == 0 {
		errs.Add(Join(path, "actions"), "at least one action is needed")
	}
	if r.Stage > 10 {
		errs.Add(Join(path, "stage"), "must be at most 10, got %d", r.Stage)
	}
	for i := range r.Actions {
		a := &r.Actions[i]
		ap := Index(Join(path, "actions"), i)
		n := 0
		for _, set := range []bool{a.SourceCluster != nil, a.DestinationCluster != nil, a.RequestHeaders != nil,
			a.RemoteAddress != nil, a.GenericKey != nil, a.HeaderValueMatch != nil} {
			if set {
				n++
			}
		}
		if n != 1 {
			errs.Add(ap, "set exactly one of source_cluster, destination_cluster, request_headers, remote_address, generic_key, header_value_match")
			continue
		}
		switch {
		case a.RequestHeaders != nil:
			if a.RequestHeaders.HeaderName == "" {
				errs.Add(Join(ap, "request_headers.header_name"), "required")
			}
			if a.RequestHeaders.DescriptorKey == "" {
				errs.Add(Join(ap, "request_headers.descriptor_key"), "required")
			}
		case a.GenericKey != nil:
			if a.GenericKey.DescriptorValue == "" {
				errs.Add(Join(ap, "generic_key.descriptor_value"), "required")
			}
		case a.HeaderValueMatch != nil:
			if a.HeaderValueMatch.DescriptorValue == "" {
				errs.Add(Join(ap, "header_value_match.descriptor_value"), "required")
			}
			if len(a.HeaderValueMatch.Headers) == 0 {
				errs.Add(Join(ap, "header_value_match.headers"), "at least one header matcher is needed")
			}
		}
	}
}
