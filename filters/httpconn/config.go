package httpconn

import (
	"time"

	"github.com/sluice-proxy/sluice/accesslog"
	"github.com/sluice-proxy/sluice/config"
	httpfilter "github.com/sluice-proxy/sluice/filters/http"
	"github.com/sluice-proxy/sluice/tracing"
)

// Config is http_connection_manager's typed config, after Envoy's
// HttpConnectionManager message (field names and defaults are Envoy's).
type Config struct {
	// StatPrefix names the stats: http.<stat_prefix>.*. Required.
	StatPrefix string `yaml:"stat_prefix" json:"stat_prefix"`
	// CodecType is AUTO (default: HTTP/2 on ALPN h2 or the h2c preface,
	// else HTTP/1.1), HTTP1 or HTTP2.
	CodecType string `yaml:"codec_type" json:"codec_type,omitempty"`
	// RouteConfig is the inline route table. Required.
	RouteConfig config.RouteConfiguration `yaml:"route_config" json:"route_config"`
	// HTTPFilters run in order on each request; the last is router.
	// Empty means [router].
	HTTPFilters []httpfilter.Spec `yaml:"http_filters" json:"http_filters,omitempty"`
	// ServerName replaces the response's server header. Default "envoy".
	ServerName string `yaml:"server_name" json:"server_name,omitempty"`
	// UseRemoteAddress appends the connection's peer address to
	// x-forwarded-for and trusts it as the client address (edge proxies).
	UseRemoteAddress bool `yaml:"use_remote_address" json:"use_remote_address,omitempty"`
	// XffNumTrustedHops is how many right-most x-forwarded-for addresses
	// are trusted proxies when finding the client address.
	XffNumTrustedHops uint32 `yaml:"xff_num_trusted_hops" json:"xff_num_trusted_hops,omitempty"`
	// GenerateRequestID sets x-request-id when absent (default true).
	GenerateRequestID *bool `yaml:"generate_request_id" json:"generate_request_id,omitempty"`
	// PreserveExternalRequestID keeps a client's x-request-id at the edge
	// (use_remote_address) instead of replacing it.
	PreserveExternalRequestID bool `yaml:"preserve_external_request_id" json:"preserve_external_request_id,omitempty"`
	// StreamIdleTimeout resets a stream with no activity for this long.
	// Default 5m; 0s disables.
	StreamIdleTimeout config.Duration `yaml:"stream_idle_timeout" json:"stream_idle_timeout"`
	// RequestTimeout bounds receiving the whole request. 0 (default) none.
	RequestTimeout config.Duration `yaml:"request_timeout" json:"request_timeout,omitempty"`
	// RequestHeadersTimeout bounds receiving the request head, from its
	// first byte. 0 (default) none.
	RequestHeadersTimeout config.Duration `yaml:"request_headers_timeout" json:"request_headers_timeout,omitempty"`
	// MaxRequestHeadersKb bounds the request head. Default 60, at most 8192.
	MaxRequestHeadersKb uint32 `yaml:"max_request_headers_kb" json:"max_request_headers_kb"`
	// CommonHTTPProtocolOptions are limits shared by both codecs.
	CommonHTTPProtocolOptions CommonOptions `yaml:"common_http_protocol_options" json:"common_http_protocol_options"`
	// HTTPProtocolOptions are HTTP/1 options.
	HTTPProtocolOptions HTTP1Options `yaml:"http_protocol_options" json:"http_protocol_options"`
	// HTTP2ProtocolOptions are HTTP/2 options.
	HTTP2ProtocolOptions HTTP2Options `yaml:"http2_protocol_options" json:"http2_protocol_options"`
	// AccessLog writes one line per request.
	AccessLog []AccessLog `yaml:"access_log" json:"access_log,omitempty"`
	// Tracing, when set, traces requests (Envoy's tracing; tracing.go).
	Tracing *tracing.Config `yaml:"tracing" json:"tracing,omitempty"`
	// UpgradeConfigs, when given, are the only upgrades allowed (Envoy's
	// rules, upgrade.go); without them every Upgrade is forwarded.
	UpgradeConfigs []UpgradeConfig `yaml:"upgrade_configs" json:"upgrade_configs,omitempty"`
	// StripAnyHostPort and StripMatchingHostPort remove the port from the
	// Host before routing (any port; the listener's port only).
	StripAnyHostPort      bool `yaml:"strip_any_host_port" json:"strip_any_host_port,omitempty"`
	StripMatchingHostPort bool `yaml:"strip_matching_host_port" json:"strip_matching_host_port,omitempty"`
	// AlwaysSetRequestIDInResponse returns x-request-id to the client.
	AlwaysSetRequestIDInResponse bool `yaml:"always_set_request_id_in_response" json:"always_set_request_id_in_response,omitempty"`
	// Via is appended to the via header of requests and responses.
	Via string `yaml:"via" json:"via,omitempty"`
	// NormalizePath applies RFC 3986 normalization (unreserved characters
	// decoded, dot segments removed) to the path before filters and
	// routing; MergeSlashes collapses repeated slashes (normalize.go).
	NormalizePath bool `yaml:"normalize_path" json:"normalize_path,omitempty"`
	// SkipXffAppend leaves x-forwarded-for as received at the edge (the
	// trusted client is still found as if the peer were appended).
	SkipXffAppend bool `yaml:"skip_xff_append" json:"skip_xff_append,omitempty"`
	MergeSlashes  bool `yaml:"merge_slashes" json:"merge_slashes,omitempty"`
	// ServerHeaderTransformation: OVERWRITE (default), APPEND_IF_ABSENT,
	// PASS_THROUGH (hcmextra.go).
	ServerHeaderTransformation string `yaml:"server_header_transformation" json:"server_header_transformation,omitempty"`
}

// CommonOptions is Envoy's HttpProtocolOptions (core).
type CommonOptions struct {
	// IdleTimeout closes a connection without streams for this long.
	// Default 1h; 0s disables.
	IdleTimeout config.Duration `yaml:"idle_timeout" json:"idle_timeout"`
	// MaxHeadersCount bounds the number of request headers. Default 100.
	MaxHeadersCount uint32 `yaml:"max_headers_count" json:"max_headers_count"`
	// MaxStreamDuration bounds a stream's life. 0 (default) none.
	MaxStreamDuration config.Duration `yaml:"max_stream_duration" json:"max_stream_duration,omitempty"`
	// HeadersWithUnderscoresAction is ALLOW (default), REJECT_REQUEST
	// (400) or DROP_HEADER.
	HeadersWithUnderscoresAction string `yaml:"headers_with_underscores_action" json:"headers_with_underscores_action,omitempty"`
}

// HTTP1Options is Envoy's Http1ProtocolOptions (the part sluice reads).
type HTTP1Options struct {
	// AcceptHTTP10 serves HTTP/1.0 requests; otherwise they get 426, as
	// in Envoy.
	AcceptHTTP10 bool `yaml:"accept_http_10" json:"accept_http_10,omitempty"`
}

// HTTP2Options is Envoy's Http2ProtocolOptions (the part sluice reads).
type HTTP2Options struct {
	// MaxConcurrentStreams per connection. Default 1024 (Envoy allows
	// 2^31-1; a bound keeps a connection's memory bounded).
	MaxConcurrentStreams uint32 `yaml:"max_concurrent_streams" json:"max_concurrent_streams"`
	// InitialStreamWindowSize is the most buffered per stream upload.
	// Default 1 MiB (Envoy: 256 MiB, bounded by its buffer limits).
	InitialStreamWindowSize uint32 `yaml:"initial_stream_window_size" json:"initial_stream_window_size"`
	// InitialConnectionWindowSize is the most buffered per connection.
	// Default 1 MiB.
	InitialConnectionWindowSize uint32 `yaml:"initial_connection_window_size" json:"initial_connection_window_size"`
}

// AccessLog is one access log: a file and a format (text or json_format;
// neither means Envoy's default format).
type AccessLog struct {
	Path       string            `yaml:"path" json:"path" sluice:"path,out"`
	Format     string            `yaml:"format" json:"format,omitempty"`
	JSONFormat map[string]string `yaml:"json_format" json:"json_format,omitempty"`
}

// NewConfig returns a config with Envoy's defaults.
func NewConfig() *Config {
	return &Config{
		CodecType:           "AUTO",
		ServerName:          "envoy",
		StreamIdleTimeout:   config.Duration(5 * time.Minute),
		MaxRequestHeadersKb: 60,
		CommonHTTPProtocolOptions: CommonOptions{
			IdleTimeout: config.Duration(time.Hour), MaxHeadersCount: 100,
			HeadersWithUnderscoresAction: "ALLOW",
		},
		HTTP2ProtocolOptions: HTTP2Options{
			MaxConcurrentStreams: 1024, InitialStreamWindowSize: 1 << 20, InitialConnectionWindowSize: 1 << 20,
		},
	}
}

// Validate checks the config.
func (c *Config) Validate(path string, errs *config.Errors) {
	if c.StatPrefix == "" {
		errs.Add(config.Join(path, "stat_prefix"), "required")
	}
	if !validServerHeaderTransformation(c.ServerHeaderTransformation) {
		errs.Add(config.Join(path, "server_header_transformation"), "unknown value %q (OVERWRITE, APPEND_IF_ABSENT, PASS_THROUGH)", c.ServerHeaderTransformation)
	}
	switch c.CodecType {
	case "AUTO", "HTTP1", "HTTP2":
	default:
		errs.Add(config.Join(path, "codec_type"), "must be AUTO, HTTP1 or HTTP2 (got %q)", c.CodecType)
	}
	if c.MaxRequestHeadersKb == 0 || c.MaxRequestHeadersKb > 8192 {
		errs.Add(config.Join(path, "max_request_headers_kb"), "must be between 1 and 8192")
	}
	switch c.CommonHTTPProtocolOptions.HeadersWithUnderscoresAction {
	case "ALLOW", "REJECT_REQUEST", "DROP_HEADER":
	default:
		errs.Add(config.Join(path, "common_http_protocol_options.headers_with_underscores_action"),
			"must be ALLOW, REJECT_REQUEST or DROP_HEADER")
	}
	if c.CommonHTTPProtocolOptions.MaxHeadersCount == 0 {
		errs.Add(config.Join(path, "common_http_protocol_options.max_headers_count"), "must be positive")
	}
	h2 := c.HTTP2ProtocolOptions
	if h2.InitialStreamWindowSize < 65535 || h2.InitialConnectionWindowSize < 65535 {
		errs.Add(config.Join(path, "http2_protocol_options"), "window sizes must be at least 65535")
	}
	if h2.MaxConcurrentStreams == 0 {
		errs.Add(config.Join(path, "http2_protocol_options.max_concurrent_streams"), "must be positive")
	}
	for i, f := range c.HTTPFilters {
		if f.Name == routerName && i != len(c.HTTPFilters)-1 {
			errs.Add(config.Index(config.Join(path, "http_filters"), i), "router must be the last HTTP filter")
		}
	}
	if n := len(c.HTTPFilters); n > 0 && c.HTTPFilters[n-1].Name != routerName && c.HTTPFilters[n-1].Name != "" {
		errs.Add(config.Join(path, "http_filters"), "the last HTTP filter must be router")
	}
	c.validateTracing(path, errs)
	for i, a := range c.AccessLog {
		p := config.Index(config.Join(path, "access_log"), i)
		if a.Path == "" {
			errs.Add(config.Join(p, "path"), "required")
		}
		if a.Format != "" && a.JSONFormat != nil {
			errs.Add(p, "give either format or json_format, not both")
		}
		if a.Format != "" {
			if _, err := accesslog.Compile(a.Format); err != nil {
				errs.Add(config.Join(p, "format"), "%v", err)
			}
		}
		if a.JSONFormat != nil {
			if _, err := accesslog.CompileJSON(a.JSONFormat); err != nil {
				errs.Add(config.Join(p, "json_format"), "%v", err)
			}
		}
	}
}

// ClusterRefs names the clusters the routes use, and those HTTP filters
// name (ext_authz's and ratelimit's services), for the loader's check.
func (c *Config) ClusterRefs(path string) []config.ClusterRef {
	refs := clusterRefs(&c.RouteConfig, config.Join(path, "route_config"))
	for i, f := range c.HTTPFilters {
		if r, ok := f.Config.(interface {
			ClusterRefs(string) []config.ClusterRef
		}); ok {
			refs = append(refs, r.ClusterRefs(config.Join(config.Index(config.Join(path, "http_filters"), i), f.Name))...)
		}
	}
	return append(refs, c.tracingRefs(path)...)
}
