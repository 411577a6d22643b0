package extauthz

import (
	"time"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/filters/http/grpcservice"
	"github.com/sluice-proxy/sluice/router"
)

// Config is Envoy's envoy.extensions.filters.http.ext_authz.v3.ExtAuthz.
// Exactly one of GrpcService and HTTPService names the authorization
// service.
type Config struct {
	GrpcService *GrpcService `yaml:"grpc_service" json:"grpc_service,omitempty"`
	HTTPService *HTTPService `yaml:"http_service" json:"http_service,omitempty"`
	// TransportAPIVersion is V3 (the only one; unset means V3).
	TransportAPIVersion string `yaml:"transport_api_version" json:"transport_api_version,omitempty"`
	// FailureModeAllow lets a request through when the service fails
	// (connection error, timeout, a 5xx-less garbage answer).
	FailureModeAllow bool `yaml:"failure_mode_allow" json:"failure_mode_allow,omitempty"`
	// FailureModeAllowHeaderAdd adds x-envoy-auth-failure-mode-allowed:
	// true to such requests.
	FailureModeAllowHeaderAdd bool `yaml:"failure_mode_allow_header_add" json:"failure_mode_allow_header_add,omitempty"`
	// WithRequestBody sends (a prefix of) the body in the check.
	WithRequestBody *BufferSettings `yaml:"with_request_body" json:"with_request_body,omitempty"`
	// ClearRouteCache matches the route again after the service changed
	// the request's headers.
	ClearRouteCache bool `yaml:"clear_route_cache" json:"clear_route_cache,omitempty"`
	// StatusOnError is the status of the answer when the service fails
	// and failure_mode_allow is off; 403 when unset.
	StatusOnError *HTTPStatus `yaml:"status_on_error" json:"status_on_error,omitempty"`
	// MetadataContextNamespaces are the dynamic metadata namespaces sent
	// in the check's metadata_context (jwt_authn's payload, for one).
	MetadataContextNamespaces []string `yaml:"metadata_context_namespaces" json:"metadata_context_namespaces,omitempty"`
	// IncludePeerCertificate sends the client's certificate (URL-encoded
	// PEM) in source.certificate.
	IncludePeerCertificate bool `yaml:"include_peer_certificate" json:"include_peer_certificate,omitempty"`
	// StatPrefix goes after ext_authz. in the stat names.
	StatPrefix string `yaml:"stat_prefix" json:"stat_prefix,omitempty"`
	// AllowedHeaders limits the client headers sent to a gRPC service
	// (unset: all); DisallowedHeaders removes some.
	AllowedHeaders    *ListStringMatcher `yaml:"allowed_headers" json:"allowed_headers,omitempty"`
	DisallowedHeaders *ListStringMatcher `yaml:"disallowed_headers" json:"disallowed_headers,omitempty"`
}

// GrpcService is Envoy's envoy.config.core.v3.GrpcService (envoy_grpc).
type GrpcService = grpcservice.GrpcService

// HTTPService is Envoy's ext_authz HttpService.
type HTTPService struct {
	ServerURI             HTTPURI                `yaml:"server_uri" json:"server_uri"`
	PathPrefix            string                 `yaml:"path_prefix" json:"path_prefix,omitempty"`
	AuthorizationRequest  *AuthorizationRequest  `yaml:"authorization_request" json:"authorization_request,omitempty"`
	AuthorizationResponse *AuthorizationResponse `yaml:"authorization_response" json:"authorization_response,omitempty"`
}

// HTTPURI is Envoy's envoy.config.core.v3.HttpUri.
type HTTPURI struct {
	URI     string          `yaml:"uri" json:"uri"`
	Cluster string          `yaml:"cluster" json:"cluster"`
	Timeout config.Duration `yaml:"timeout" json:"timeout"`
}

// AuthorizationRequest says what of the client's request goes to an HTTP
// service: the headers matching AllowedHeaders (always Host, :method,
// :path, Content-Length and Authorization) and HeadersToAdd.
type AuthorizationRequest struct {
	AllowedHeaders *ListStringMatcher   `yaml:"allowed_headers" json:"allowed_headers,omitempty"`
	HeadersToAdd   []config.HeaderValue `yaml:"headers_to_add" json:"headers_to_add,omitempty"`
}

// AuthorizationResponse says which headers of an HTTP service's answer go
// where.
type AuthorizationResponse struct {
	// AllowedUpstreamHeaders are set on the allowed request (replacing);
	// AllowedUpstreamHeadersToAppend are appended to it.
	AllowedUpstreamHeaders         *ListStringMatcher `yaml:"allowed_upstream_headers" json:"allowed_upstream_headers,omitempty"`
	AllowedUpstreamHeadersToAppend *ListStringMatcher `yaml:"allowed_upstream_headers_to_append" json:"allowed_upstream_headers_to_append,omitempty"`
	// AllowedClientHeaders go to the client with a denial (unset: all but
	// Host); AllowedClientHeadersOnSuccess go to it with the upstream's
	// response.
	AllowedClientHeaders          *ListStringMatcher `yaml:"allowed_client_headers" json:"allowed_client_headers,omitempty"`
	AllowedClientHeadersOnSuccess *ListStringMatcher `yaml:"allowed_client_headers_on_success" json:"allowed_client_headers_on_success,omitempty"`
	// DynamicMetadataFromHeaders become dynamic metadata under
	// envoy.filters.http.ext_authz.
	DynamicMetadataFromHeaders *ListStringMatcher `yaml:"dynamic_metadata_from_headers" json:"dynamic_metadata_from_headers,omitempty"`
}

// ListStringMatcher is Envoy's envoy.type.matcher.v3.ListStringMatcher.
type ListStringMatcher struct {
	Patterns []config.StringMatcher `yaml:"patterns" json:"patterns"`
}

// BufferSettings is Envoy's ext_authz BufferSettings.
type BufferSettings struct {
	// MaxRequestBytes is how much body is held for the check.
	MaxRequestBytes uint32 `yaml:"max_request_bytes" json:"max_request_bytes"`
	// AllowPartialMessage sends the first max_request_bytes of a longer
	// body (with x-envoy-auth-partial-body: true) instead of answering 413.
	AllowPartialMessage bool `yaml:"allow_partial_message" json:"allow_partial_message,omitempty"`
	// PackAsBytes sends the body in raw_body instead of body.
	PackAsBytes bool `yaml:"pack_as_bytes" json:"pack_as_bytes,omitempty"`
}

// HTTPStatus is Envoy's envoy.type.v3.HttpStatus.
type HTTPStatus struct {
	Code int `yaml:"code" json:"code"`
}

// PerRoute is Envoy's ExtAuthzPerRoute: disabled, or check_settings.
type PerRoute struct {
	Disabled      bool           `yaml:"disabled" json:"disabled,omitempty"`
	CheckSettings *CheckSettings `yaml:"check_settings" json:"check_settings,omitempty"`
}

// CheckSettings is Envoy's ext_authz CheckSettings.
type CheckSettings struct {
	// ContextExtensions are sent in the check's context_extensions (merged
	// over the virtual host's, as Envoy merges them).
	ContextExtensions map[string]string `yaml:"context_extensions" json:"context_extensions,omitempty"`
	// DisableRequestBodyBuffering turns with_request_body off for the route.
	DisableRequestBodyBuffering bool `yaml:"disable_request_body_buffering" json:"disable_request_body_buffering,omitempty"`
}

// Validate records exactly one oneof field, and its required values.
func (c *PerRoute) Validate(path string, errs *config.Errors) {
	if c.Disabled == (c.CheckSettings != nil) {
		errs.Add(path, "set exactly one of disabled: true, check_settings")
	}
}

// defaultTimeout is Envoy's GrpcService timeout default for ext_authz.
const defaultTimeout = 200 * time.Millisecond

// Validate checks what Envoy's proto validation checks.
func (c *Config) Validate(path string, errs *config.Errors) {
	switch {
	case (c.GrpcService == nil) == (c.HTTPService == nil):
		errs.Add(path, "set exactly one of grpc_service, http_service")
	case c.GrpcService != nil:
		// GrpcService validates itself.
	default:
		hp := config.Join(path, "http_service.server_uri")
		if c.HTTPService.ServerURI.Cluster == "" {
			errs.Add(config.Join(hp, "cluster"), "required")
		}
		if c.HTTPService.ServerURI.URI == "" {
			errs.Add(config.Join(hp, "uri"), "required")
		}
		if c.HTTPService.ServerURI.Timeout.D() <= 0 {
			errs.Add(config.Join(hp, "timeout"), "required, above 0")
		}
	}
	switch c.TransportAPIVersion {
	case "", "V3":
	default:
		errs.Add(config.Join(path, "transport_api_version"), "only V3 is supported, got %q", c.TransportAPIVersion)
	}
	if c.StatusOnError != nil && (c.StatusOnError.Code < 100 || c.StatusOnError.Code > 599) {
		errs.Add(config.Join(path, "status_on_error.code"), "not an HTTP status: %d", c.StatusOnError.Code)
	}
	if b := c.WithRequestBody; b != nil && b.MaxRequestBytes == 0 {
		errs.Add(config.Join(path, "with_request_body.max_request_bytes"), "must be above 0")
	}
	for name, l := range map[string]*ListStringMatcher{"allowed_headers": c.AllowedHeaders, "disallowed_headers": c.DisallowedHeaders} {
		l.validate(config.Join(path, name), errs)
	}
	if h := c.HTTPService; h != nil {
		if r := h.AuthorizationRequest; r != nil {
			r.AllowedHeaders.validate(config.Join(path, "http_service.authorization_request.allowed_headers"), errs)
		}
		if r := h.AuthorizationResponse; r != nil {
			rp := config.Join(path, "http_service.authorization_response")
			r.AllowedUpstreamHeaders.validate(config.Join(rp, "allowed_upstream_headers"), errs)
			r.AllowedUpstreamHeadersToAppend.validate(config.Join(rp, "allowed_upstream_headers_to_append"), errs)
			r.AllowedClientHeaders.validate(config.Join(rp, "allowed_client_headers"), errs)
			r.AllowedClientHeadersOnSuccess.validate(config.Join(rp, "allowed_client_headers_on_success"), errs)
			r.DynamicMetadataFromHeaders.validate(config.Join(rp, "dynamic_metadata_from_headers"), errs)
		}
	}
}

func (l *ListStringMatcher) validate(path string, errs *config.Errors) {
	if l == nil {
		return
	}
	for i := range l.Patterns {
		(*router.StringMatcher)(&l.Patterns[i]).Validate(config.Index(config.Join(path, "patterns"), i), errs)
	}
}

// matcher is a compiled ListStringMatcher; nil matches nothing.
type matcher []router.Match

func compileList(l *ListStringMatcher) matcher {
	if l == nil {
		return nil
	}
	m := make(matcher, len(l.Patterns))
	for i := range l.Patterns {
		m[i] = (*router.StringMatcher)(&l.Patterns[i]).Compile()
	}
	return m
}

// match reports whether any pattern matches v.
func (m matcher) match(v string) bool {
	for _, p := range m {
		if p.Match(v) {
			return true
		}
	}
	return false
}

// ClusterRefs names the service's cluster, for the loader's check.
func (c *Config) ClusterRefs(path string) []config.ClusterRef {
	switch {
	case c.GrpcService != nil && c.GrpcService.EnvoyGrpc != nil:
		return []config.ClusterRef{{Path: config.Join(path, "grpc_service.envoy_grpc.cluster_name"), Name: c.GrpcService.EnvoyGrpc.ClusterName}}
	case c.HTTPService != nil:
		return []config.ClusterRef{{Path: config.Join(path, "http_service.server_uri.cluster"), Name: c.HTTPService.ServerURI.Cluster}}
	}
	return nil
}
