package config

// RouteAction is Envoy's envoy.config.route.v3.RouteAction: exactly one of
// cluster, cluster_header or weighted_clusters, and what to do on the way.
type RouteAction struct {
	Cluster          string            `yaml:"cluster" json:"cluster,omitempty"`
	ClusterHeader    string            `yaml:"cluster_header" json:"cluster_header,omitempty"`
	WeightedClusters *WeightedClusters `yaml:"weighted_clusters" json:"weighted_clusters,omitempty"`
	// PrefixRewrite replaces the matched prefix (or path); not with
	// safe_regex matches, and not together with regex_rewrite.
	PrefixRewrite      string                   `yaml:"prefix_rewrite" json:"prefix_rewrite,omitempty"`
	RegexRewrite       *RegexMatchAndSubstitute `yaml:"regex_rewrite" json:"regex_rewrite,omitempty"`
	HostRewriteLiteral string                   `yaml:"host_rewrite_literal" json:"host_rewrite_literal,omitempty"`
	AutoHostRewrite    bool                     `yaml:"auto_host_rewrite" json:"auto_host_rewrite,omitempty"`
	HostRewriteHeader  string                   `yaml:"host_rewrite_header" json:"host_rewrite_header,omitempty"`
	// HostRewritePathRegex sets the Host to the substitution's result on
	// the path (without the query).
	HostRewritePathRegex *RegexMatchAndSubstitute `yaml:"host_rewrite_path_regex" json:"host_rewrite_path_regex,omitempty"`
	// AppendXForwardedHost adds the original Host to x-forwarded-host when
	// a host rewrite changed it.
	AppendXForwardedHost bool `yaml:"append_x_forwarded_host" json:"append_x_forwarded_host,omitempty"`
	// ClusterNotFoundResponseCode: SERVICE_UNAVAILABLE (503, the default),
	// NOT_FOUND (404) or INTERNAL_SERVER_ERROR (500).
	ClusterNotFoundResponseCode string `yaml:"cluster_not_found_response_code" json:"cluster_not_found_response_code,omitempty"`
	// Timeout is the whole upstream exchange's limit: 15s when unset, and
	// 0s disables it (Envoy's rules).
	Timeout *Duration `yaml:"timeout" json:"timeout,omitempty"`
	// IdleTimeout, when set, overrides the connection manager's
	// stream_idle_timeout for this route; 0s disables it.
	IdleTimeout *Duration    `yaml:"idle_timeout" json:"idle_timeout,omitempty"`
	RetryPolicy *RetryPolicy `yaml:"retry_policy" json:"retry_policy,omitempty"`
	// MaxGrpcTimeout (Envoy's older field), when set, makes a gRPC
	// request's grpc-timeout (infinity when absent) the route timeout,
	// capped by this value unless it is 0s. GrpcTimeoutOffset is then
	// taken off it, when smaller.
	MaxGrpcTimeout    *Duration `yaml:"max_grpc_timeout" json:"max_grpc_timeout,omitempty"`
	GrpcTimeoutOffset *Duration `yaml:"grpc_timeout_offset" json:"grpc_timeout_offset,omitempty"`
	// MaxStreamDuration bounds the whole stream, and when its
	// grpc_timeout_header_max is set, a request's grpc-timeout does.
	MaxStreamDuration     *MaxStreamDuration `yaml:"max_stream_duration" json:"max_stream_duration,omitempty"`
	RequestMirrorPolicies []MirrorPolicy     `yaml:"request_mirror_policies" json:"request_mirror_policies,omitempty"`
	HashPolicy            []HashPolicy       `yaml:"hash_policy" json:"hash_policy,omitempty"`
	// UpgradeConfigs enables upgrades per route (route_upgrade.go).
	UpgradeConfigs []UpgradeConfig `yaml:"upgrade_configs" json:"upgrade_configs,omitempty"`
	// RateLimits build the descriptors of the ratelimit filters.
	RateLimits []RateLimit `yaml:"rate_limits" json:"rate_limits,omitempty"`
}

// MaxStreamDuration is Envoy's RouteAction.MaxStreamDuration.
type MaxStreamDuration struct {
	// MaxStreamDuration bounds every stream of the route; 0s or unset: none.
	MaxStreamDuration *Duration `yaml:"max_stream_duration" json:"max_stream_duration,omitempty"`
	// GrpcTimeoutHeaderMax, when set, makes a request's grpc-timeout the
	// stream's bound, capped by this value unless it is 0s.
	GrpcTimeoutHeaderMax *Duration `yaml:"grpc_timeout_header_max" json:"grpc_timeout_header_max,omitempty"`
	// GrpcTimeoutHeaderOffset is taken off the grpc-timeout, when smaller.
	GrpcTimeoutHeaderOffset *Duration `yaml:"grpc_timeout_header_offset" json:"grpc_timeout_header_offset,omitempty"`
}

// WeightedClusters is Envoy's WeightedCluster: one cluster picked per
// request in proportion to its weight.
type WeightedClusters struct {
	Clusters []ClusterWeight `yaml:"clusters" json:"clusters"`
	// TotalWeight is Envoy's deprecated total; when set it must equal the
	// sum of the weights.
	TotalWeight uint32 `yaml:"total_weight" json:"total_weight,omitempty"`
}

// ClusterWeight is one cluster of weighted_clusters. (Envoy's per-cluster
// header mutations and typed_per_filter_config are not supported yet: the
// loader refuses them.)
type ClusterWeight struct {
	Name   string `yaml:"name" json:"name"`
	Weight uint32 `yaml:"weight" json:"weight"`
}

// RegexMatchAndSubstitute is Envoy's envoy.type.matcher.v3 message of that
// name: every match of pattern in the path (not the query) is replaced by
// substitution (\1 style group references, as RE2 and Envoy write them).
type RegexMatchAndSubstitute struct {
	Pattern      SafeRegex `yaml:"pattern" json:"pattern"`
	Substitution string    `yaml:"substitution" json:"substitution"`
}

// RetryPolicy is Envoy's envoy.config.route.v3.RetryPolicy, exposed as data
// for the router filter to act on.
type RetryPolicy struct {
	// RetryOn is Envoy's comma-separated list (5xx, gateway-error, reset,
	// connect-failure, retriable-4xx, refused-stream,
	// retriable-status-codes, retriable-headers, envoy-ratelimited,
	// http3-post-connect-failure, and the gRPC ones).
	RetryOn                       string        `yaml:"retry_on" json:"retry_on,omitempty"`
	NumRetries                    *uint32       `yaml:"num_retries" json:"num_retries,omitempty"`
	PerTryTimeout                 *Duration     `yaml:"per_try_timeout" json:"per_try_timeout,omitempty"`
	PerTryIdleTimeout             *Duration     `yaml:"per_try_idle_timeout" json:"per_try_idle_timeout,omitempty"`
	RetryBackOff                  *RetryBackOff `yaml:"retry_back_off" json:"retry_back_off,omitempty"`
	RetriableStatusCodes          []uint32      `yaml:"retriable_status_codes" json:"retriable_status_codes,omitempty"`
	HostSelectionRetryMaxAttempts int64         `yaml:"host_selection_retry_max_attempts" json:"host_selection_retry_max_attempts,omitempty"`
	// RetriableHeaders: under "retriable-headers", a response matching any
	// of these is retried.
	RetriableHeaders []HeaderMatcher `yaml:"retriable_headers" json:"retriable_headers,omitempty"`
	// RetryHostPredicate: envoy.retry_host_predicates.previous_hosts makes
	// retries avoid the hosts already tried.
	RetryHostPredicate []RetryHostPredicate `yaml:"retry_host_predicate" json:"retry_host_predicate,omitempty"`
}

// RetryHostPredicate is Envoy's RetryPolicy.RetryHostPredicate.
type RetryHostPredicate struct {
	Name        string         `yaml:"name" json:"name"`
	TypedConfig map[string]any `yaml:"typed_config" json:"typed_config,omitempty"`
}

// PreviousHosts is the one retry host predicate sluice has.
const PreviousHosts = "envoy.retry_host_predicates.previous_hosts"

// RetryBackOff is Envoy's exponential back-off: base_interval (required,
// above 0) and max_interval (10x base when unset).
type RetryBackOff struct {
	BaseInterval Duration  `yaml:"base_interval" json:"base_interval"`
	MaxInterval  *Duration `yaml:"max_interval" json:"max_interval,omitempty"`
}

// MirrorPolicy is Envoy's RequestMirrorPolicy: a copy of the request goes
// to cluster (fire and forget), for runtime_fraction of requests (all when
// unset).
type MirrorPolicy struct {
	Cluster string `yaml:"cluster" json:"cluster,omitempty"`
	// ClusterHeader names the request header holding the cluster (instead
	// of cluster); a missing header or unknown cluster mirrors nothing.
	ClusterHeader   string           `yaml:"cluster_header" json:"cluster_header,omitempty"`
	RuntimeFraction *RuntimeFraction `yaml:"runtime_fraction" json:"runtime_fraction,omitempty"`
	// DisableShadowHostSuffixAppend keeps the host as it is (Envoy appends
	// "-shadow" by default).
	DisableShadowHostSuffixAppend bool `yaml:"disable_shadow_host_suffix_append" json:"disable_shadow_host_suffix_append,omitempty"`
}

// HashPolicy is Envoy's RouteAction.HashPolicy: exactly one of header,
// cookie, connection_properties, query_parameter. Policies are tried in
// order; a terminal policy that produced a hash ends the list.
type HashPolicy struct {
	Header               *HashHeader         `yaml:"header" json:"header,omitempty"`
	Cookie               *HashCookie         `yaml:"cookie" json:"cookie,omitempty"`
	ConnectionProperties *HashConnProperties `yaml:"connection_properties" json:"connection_properties,omitempty"`
	QueryParameter       *HashQueryParameter `yaml:"query_parameter" json:"query_parameter,omitempty"`
	Terminal             bool                `yaml:"terminal" json:"terminal,omitempty"`
}

// HashHeader hashes a request header's value.
type HashHeader struct {
	HeaderName string `yaml:"header_name" json:"header_name"`
}

// HashCookie hashes a cookie's value. Envoy generates the cookie when ttl
// is set and it is missing; sluice does not yet (the hash is then absent).
type HashCookie struct {
	Name string    `yaml:"name" json:"name"`
	TTL  *Duration `yaml:"ttl" json:"ttl,omitempty"`
	Path string    `yaml:"path" json:"path,omitempty"`
}

// HashConnProperties hashes the downstream source IP when SourceIP is set.
type HashConnProperties struct {
	SourceIP bool `yaml:"source_ip" json:"source_ip"`
}

// HashQueryParameter hashes a query parameter's value.
type HashQueryParameter struct {
	Name string `yaml:"name" json:"name"`
}

// RedirectAction is Envoy's RedirectAction: the answer is a redirect built
// from the request with the given parts replaced.
type RedirectAction struct {
	HTTPSRedirect  bool                     `yaml:"https_redirect" json:"https_redirect,omitempty"`
	SchemeRedirect string                   `yaml:"scheme_redirect" json:"scheme_redirect,omitempty"`
	HostRedirect   string                   `yaml:"host_redirect" json:"host_redirect,omitempty"`
	PortRedirect   uint32                   `yaml:"port_redirect" json:"port_redirect,omitempty"`
	PathRedirect   string                   `yaml:"path_redirect" json:"path_redirect,omitempty"`
	PrefixRewrite  string                   `yaml:"prefix_rewrite" json:"prefix_rewrite,omitempty"`
	RegexRewrite   *RegexMatchAndSubstitute `yaml:"regex_rewrite" json:"regex_rewrite,omitempty"`
	// ResponseCode: MOVED_PERMANENTLY (301, the default), FOUND (302),
	// SEE_OTHER (303), TEMPORARY_REDIRECT (307), PERMANENT_REDIRECT (308).
	ResponseCode string `yaml:"response_code" json:"response_code,omitempty"`
	StripQuery   bool   `yaml:"strip_query" json:"strip_query,omitempty"`
}

// RedirectCodes maps Envoy's RedirectResponseCode names to HTTP statuses.
var RedirectCodes = map[string]int{
	"": 301, "MOVED_PERMANENTLY": 301, "FOUND": 302, "SEE_OTHER": 303,
	"TEMPORARY_REDIRECT": 307, "PERMANENT_REDIRECT": 308,
}

// DirectResponse is Envoy's DirectResponseAction: sluice answers itself.
type DirectResponse struct {
	Status uint32            `yaml:"status" json:"status"`
	Body   *InlineDataSource `yaml:"body" json:"body,omitempty"`
}

// InlineDataSource is the inline part of Envoy's
// envoy.config.core.v3.DataSource (the Envoy loader reads a file into it).
type InlineDataSource struct {
	InlineString string `yaml:"inline_string" json:"inline_string,omitempty"`
}
