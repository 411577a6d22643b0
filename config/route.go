package config

// RouteConfiguration is Envoy's envoy.config.route.v3.RouteConfiguration as
// sluice YAML: what http_connection_manager.route_config holds. Field names
// are Envoy's; package router compiles it into a matching table.
type RouteConfiguration struct {
	Name         string        `yaml:"name" json:"name,omitempty"`
	VirtualHosts []VirtualHost `yaml:"virtual_hosts" json:"virtual_hosts"`
	// InternalOnlyHeaders are removed from requests that come from outside
	// (the connection manager decides what is outside).
	InternalOnlyHeaders     []string            `yaml:"internal_only_headers" json:"internal_only_headers,omitempty"`
	RequestHeadersToAdd     []HeaderValueOption `yaml:"request_headers_to_add" json:"request_headers_to_add,omitempty"`
	RequestHeadersToRemove  []string            `yaml:"request_headers_to_remove" json:"request_headers_to_remove,omitempty"`
	ResponseHeadersToAdd    []HeaderValueOption `yaml:"response_headers_to_add" json:"response_headers_to_add,omitempty"`
	ResponseHeadersToRemove []string            `yaml:"response_headers_to_remove" json:"response_headers_to_remove,omitempty"`
	// MostSpecificHeaderMutationsWins reverses Envoy's default order, in
	// which config-level mutations are applied last (and so win).
	MostSpecificHeaderMutationsWins bool `yaml:"most_specific_header_mutations_wins" json:"most_specific_header_mutations_wins,omitempty"`
	// IgnorePortInHostMatching strips ":port" from the Host before matching
	// domains; off (Envoy's default), "example.com:8080" matches only a
	// domain written with the port, or a wildcard.
	IgnorePortInHostMatching bool           `yaml:"ignore_port_in_host_matching" json:"ignore_port_in_host_matching,omitempty"`
	TypedPerFilterConfig     map[string]any `yaml:"typed_per_filter_config" json:"typed_per_filter_config,omitempty"`
	// RequestMirrorPolicies apply to routes whose virtual host and action
	// have none (the most specific non-empty list wins, as in Envoy).
	RequestMirrorPolicies []MirrorPolicy `yaml:"request_mirror_policies" json:"request_mirror_policies,omitempty"`
}

// VirtualHost is Envoy's envoy.config.route.v3.VirtualHost.
type VirtualHost struct {
	Name string `yaml:"name" json:"name"`
	// Domains: exact names, "*.suffix" / "*suffix", "prefix.*" / "prefix*",
	// or "*" alone; matched case-insensitively, each unique in the config.
	Domains                 []string            `yaml:"domains" json:"domains"`
	Routes                  []Route             `yaml:"routes" json:"routes"`
	RequestHeadersToAdd     []HeaderValueOption `yaml:"request_headers_to_add" json:"request_headers_to_add,omitempty"`
	RequestHeadersToRemove  []string            `yaml:"request_headers_to_remove" json:"request_headers_to_remove,omitempty"`
	ResponseHeadersToAdd    []HeaderValueOption `yaml:"response_headers_to_add" json:"response_headers_to_add,omitempty"`
	ResponseHeadersToRemove []string            `yaml:"response_headers_to_remove" json:"response_headers_to_remove,omitempty"`
	RetryPolicy             *RetryPolicy        `yaml:"retry_policy" json:"retry_policy,omitempty"`
	TypedPerFilterConfig    map[string]any      `yaml:"typed_per_filter_config" json:"typed_per_filter_config,omitempty"`
	// RateLimits apply to the routes that have none of their own.
	RateLimits []RateLimit `yaml:"rate_limits" json:"rate_limits,omitempty"`
	// PerRequestBufferLimitBytes bounds the request body kept for retries
	// and mirrors (routes without their own); unset: the listener's
	// per_connection_buffer_limit_bytes.
	PerRequestBufferLimitBytes *uint32 `yaml:"per_request_buffer_limit_bytes" json:"per_request_buffer_limit_bytes,omitempty"`
	// RequestBodyBufferLimit is Envoy's newer name for the same limit; it
	// wins over per_request_buffer_limit_bytes.
	RequestBodyBufferLimit *uint64 `yaml:"request_body_buffer_limit" json:"request_body_buffer_limit,omitempty"`
	// RequestMirrorPolicies apply to routes whose action has none.
	RequestMirrorPolicies []MirrorPolicy `yaml:"request_mirror_policies" json:"request_mirror_policies,omitempty"`
	// IncludeRequestAttemptCount sends x-envoy-attempt-count upstream;
	// IncludeAttemptCountInResponse returns it downstream.
	IncludeRequestAttemptCount    bool `yaml:"include_request_attempt_count" json:"include_request_attempt_count,omitempty"`
	IncludeAttemptCountInResponse bool `yaml:"include_attempt_count_in_response" json:"include_attempt_count_in_response,omitempty"`
	// IncludeIsTimeoutRetryHeader sends x-envoy-is-timeout-retry on retries.
	IncludeIsTimeoutRetryHeader bool `yaml:"include_is_timeout_retry_header" json:"include_is_timeout_retry_header,omitempty"`
	// RequireTLS: NONE (default), EXTERNAL_ONLY or ALL; requests not made
	// over TLS (x-forwarded-proto not https) get a 301 to https.
	RequireTLS string `yaml:"require_tls" json:"require_tls,omitempty"`
	// VirtualClusters name request classes for their own stats
	// (vhost.<vh>.vcluster.<vc>.*).
	VirtualClusters []VirtualCluster `yaml:"virtual_clusters" json:"virtual_clusters,omitempty"`
}

// VirtualCluster is Envoy's envoy.config.route.v3.VirtualCluster: requests
// matching all headers (":path" and ":method" included) are counted under
// name.
type VirtualCluster struct {
	Name    string          `yaml:"name" json:"name"`
	Headers []HeaderMatcher `yaml:"headers" json:"headers"`
}

// Route is Envoy's envoy.config.route.v3.Route: a match and exactly one of
// route, redirect or direct_response.
type Route struct {
	Name                    string              `yaml:"name" json:"name,omitempty"`
	Match                   RouteMatch          `yaml:"match" json:"match"`
	Route                   *RouteAction        `yaml:"route" json:"route,omitempty"`
	Redirect                *RedirectAction     `yaml:"redirect" json:"redirect,omitempty"`
	DirectResponse          *DirectResponse     `yaml:"direct_response" json:"direct_response,omitempty"`
	RequestHeadersToAdd     []HeaderValueOption `yaml:"request_headers_to_add" json:"request_headers_to_add,omitempty"`
	RequestHeadersToRemove  []string            `yaml:"request_headers_to_remove" json:"request_headers_to_remove,omitempty"`
	ResponseHeadersToAdd    []HeaderValueOption `yaml:"response_headers_to_add" json:"response_headers_to_add,omitempty"`
	ResponseHeadersToRemove []string            `yaml:"response_headers_to_remove" json:"response_headers_to_remove,omitempty"`
	TypedPerFilterConfig    map[string]any      `yaml:"typed_per_filter_config" json:"typed_per_filter_config,omitempty"`
	// PerRequestBufferLimitBytes and RequestBodyBufferLimit: see VirtualHost.
	PerRequestBufferLimitBytes *uint32 `yaml:"per_request_buffer_limit_bytes" json:"per_request_buffer_limit_bytes,omitempty"`
	RequestBodyBufferLimit     *uint64 `yaml:"request_body_buffer_limit" json:"request_body_buffer_limit,omitempty"`
	// Decorator names the route's tracing span (Envoy's Decorator).
	Decorator *Decorator `yaml:"decorator" json:"decorator,omitempty"`
}

// Decorator is Envoy's envoy.config.route.v3.Decorator: operation is the
// span name of requests matching the route.
type Decorator struct {
	Operation string `yaml:"operation" json:"operation"`
	// Propagate is accepted; sluice does not send
	// x-envoy-decorator-operation upstream.
	Propagate *bool `yaml:"propagate" json:"propagate,omitempty"`
}

// RouteMatch is Envoy's envoy.config.route.v3.RouteMatch: exactly one of
// prefix, path, safe_regex or path_separated_prefix, and optional header,
// query-parameter, gRPC and runtime-fraction conditions (all must hold).
type RouteMatch struct {
	Prefix              *string    `yaml:"prefix" json:"prefix,omitempty"`
	Path                *string    `yaml:"path" json:"path,omitempty"`
	SafeRegex           *SafeRegex `yaml:"safe_regex" json:"safe_regex,omitempty"`
	PathSeparatedPrefix *string    `yaml:"path_separated_prefix" json:"path_separated_prefix,omitempty"`
	// CaseSensitive defaults to true; it does not apply to safe_regex.
	CaseSensitive   *bool                   `yaml:"case_sensitive" json:"case_sensitive,omitempty"`
	Headers         []HeaderMatcher         `yaml:"headers" json:"headers,omitempty"`
	QueryParameters []QueryParameterMatcher `yaml:"query_parameters" json:"query_parameters,omitempty"`
	// Grpc, when set (to {}), matches only gRPC requests (content-type
	// application/grpc or application/grpc+...).
	Grpc *struct{} `yaml:"grpc" json:"grpc,omitempty"`
	// ConnectMatcher, when set (to {}), matches CONNECT requests (and only
	// them); it takes the place of the path specifier.
	ConnectMatcher  *struct{}        `yaml:"connect_matcher" json:"connect_matcher,omitempty"`
	RuntimeFraction *RuntimeFraction `yaml:"runtime_fraction" json:"runtime_fraction,omitempty"`
}

// HeaderMatcher is Envoy's envoy.config.route.v3.HeaderMatcher. Exactly one
// of string_match, present_match, range_match or the older exact_match,
// prefix_match, suffix_match, contains_match, safe_regex_match; with none
// set the header must be present.
type HeaderMatcher struct {
	Name                      string         `yaml:"name" json:"name"`
	StringMatch               *StringMatcher `yaml:"string_match" json:"string_match,omitempty"`
	PresentMatch              *bool          `yaml:"present_match" json:"present_match,omitempty"`
	RangeMatch                *Int64Range    `yaml:"range_match" json:"range_match,omitempty"`
	ExactMatch                *string        `yaml:"exact_match" json:"exact_match,omitempty"`
	PrefixMatch               string         `yaml:"prefix_match" json:"prefix_match,omitempty"`
	SuffixMatch               string         `yaml:"suffix_match" json:"suffix_match,omitempty"`
	ContainsMatch             string         `yaml:"contains_match" json:"contains_match,omitempty"`
	SafeRegexMatch            *SafeRegex     `yaml:"safe_regex_match" json:"safe_regex_match,omitempty"`
	InvertMatch               bool           `yaml:"invert_match" json:"invert_match,omitempty"`
	TreatMissingHeaderAsEmpty bool           `yaml:"treat_missing_header_as_empty" json:"treat_missing_header_as_empty,omitempty"`
}

// Int64Range is Envoy's envoy.type.v3.Int64Range: start inclusive, end
// exclusive.
type Int64Range struct {
	Start int64 `yaml:"start" json:"start"`
	End   int64 `yaml:"end" json:"end"`
}

// QueryParameterMatcher is Envoy's QueryParameterMatcher: string_match on
// the (percent-decoded) value, or present_match; with neither the parameter
// must be present.
type QueryParameterMatcher struct {
	Name         string         `yaml:"name" json:"name"`
	StringMatch  *StringMatcher `yaml:"string_match" json:"string_match,omitempty"`
	PresentMatch bool           `yaml:"present_match" json:"present_match,omitempty"`
}

// RuntimeFraction is Envoy's RuntimeFractionalPercent. sluice has no runtime
// layer, so default_value is the fraction; runtime_key is kept for
// compatibility and ignored.
type RuntimeFraction struct {
	DefaultValue FractionalPercent `yaml:"default_value" json:"default_value"`
	RuntimeKey   string            `yaml:"runtime_key" json:"runtime_key,omitempty"`
}

// FractionalPercent is Envoy's envoy.type.v3.FractionalPercent:
// numerator over HUNDRED (the default), TEN_THOUSAND or MILLION.
type FractionalPercent struct {
	Numerator   uint32 `yaml:"numerator" json:"numerator"`
	Denominator string `yaml:"denominator" json:"denominator,omitempty"`
}

// Scale returns the denominator as a number (0 for an unknown name).
func (f FractionalPercent) Scale() uint32 {
	switch f.Denominator {
	case "", "HUNDRED":
		return 100
	case "TEN_THOUSAND":
		return 10_000
	case "MILLION":
		return 1_000_000
	}
	return 0
}

// HeaderMutations are the header add/remove lists Envoy allows on a route,
// a virtual host and the whole route configuration (written flat in each).
type HeaderMutations struct {
	RequestHeadersToAdd     []HeaderValueOption
	RequestHeadersToRemove  []string
	ResponseHeadersToAdd    []HeaderValueOption
	ResponseHeadersToRemove []string
}

// Mutations returns the configuration-level header mutations.
func (c *RouteConfiguration) Mutations() HeaderMutations {
	return HeaderMutations{c.RequestHeadersToAdd, c.RequestHeadersToRemove, c.ResponseHeadersToAdd, c.ResponseHeadersToRemove}
}

// Mutations returns the virtual host's header mutations.
func (v *VirtualHost) Mutations() HeaderMutations {
	return HeaderMutations{v.RequestHeadersToAdd, v.RequestHeadersToRemove, v.ResponseHeadersToAdd, v.ResponseHeadersToRemove}
}

// Mutations returns the route's header mutations.
func (r *Route) Mutations() HeaderMutations {
	return HeaderMutations{r.RequestHeadersToAdd, r.RequestHeadersToRemove, r.ResponseHeadersToAdd, r.ResponseHeadersToRemove}
}

// HeaderValueOption is Envoy's envoy.config.core.v3.HeaderValueOption. The
// value is literal (Envoy's %FORMAT% substitutions are not supported yet).
type HeaderValueOption struct {
	Header HeaderValue `yaml:"header" json:"header"`
	// AppendAction: APPEND_IF_EXISTS_OR_ADD (default), ADD_IF_ABSENT,
	// OVERWRITE_IF_EXISTS_OR_ADD or OVERWRITE_IF_EXISTS.
	AppendAction string `yaml:"append_action" json:"append_action,omitempty"`
	// Append is Envoy's deprecated bool: false means OVERWRITE_IF_EXISTS_OR_ADD.
	Append         *bool `yaml:"append" json:"append,omitempty"`
	KeepEmptyValue bool  `yaml:"keep_empty_value" json:"keep_empty_value,omitempty"`
}

// HeaderValue is one header name and value.
type HeaderValue struct {
	Key   string `yaml:"key" json:"key"`
	Value string `yaml:"value" json:"value"`
}
