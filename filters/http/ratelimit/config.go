package ratelimit

import (
	"time"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/filters/http/extauthz"
	"github.com/sluice-proxy/sluice/filters/http/grpcservice"
)

// Config is Envoy's envoy.extensions.filters.http.ratelimit.v3.RateLimit.
type Config struct {
	// Domain names the limits in the service's configuration.
	Domain string `yaml:"domain" json:"domain"`
	// Stage selects the routes' rate_limits of the same stage.
	Stage uint32 `yaml:"stage" json:"stage,omitempty"`
	// RequestType is both (default), internal (x-envoy-internal: true) or
	// external: which requests are checked.
	RequestType string `yaml:"request_type" json:"request_type,omitempty"`
	// Timeout bounds each call; Envoy's default is 20ms.
	Timeout *config.Duration `yaml:"timeout" json:"timeout,omitempty"`
	// FailureModeDeny answers status_on_error (500) when the service
	// fails, instead of letting the request through.
	FailureModeDeny bool `yaml:"failure_mode_deny" json:"failure_mode_deny,omitempty"`
	// RateLimitService names the service's cluster.
	RateLimitService Service `yaml:"rate_limit_service" json:"rate_limit_service"`
	// EnableXRatelimitHeaders is OFF (default) or DRAFT_VERSION_03.
	EnableXRatelimitHeaders string `yaml:"enable_x_ratelimit_headers" json:"enable_x_ratelimit_headers,omitempty"`
	// DisableXEnvoyRatelimitedHeader leaves x-envoy-ratelimited off 429s.
	DisableXEnvoyRatelimitedHeader bool `yaml:"disable_x_envoy_ratelimited_header" json:"disable_x_envoy_ratelimited_header,omitempty"`
	// RateLimitedStatus is the refusal's status; 429 when unset or below 400.
	RateLimitedStatus *extauthz.HTTPStatus `yaml:"rate_limited_status" json:"rate_limited_status,omitempty"`
	// StatusOnError is the status with failure_mode_deny; 500 when unset.
	StatusOnError *extauthz.HTTPStatus `yaml:"status_on_error" json:"status_on_error,omitempty"`
}

// Service is Envoy's envoy.config.ratelimit.v3.RateLimitServiceConfig.
type Service struct {
	GrpcService         *grpcservice.GrpcService `yaml:"grpc_service" json:"grpc_service"`
	TransportAPIVersion string                   `yaml:"transport_api_version" json:"transport_api_version,omitempty"`
}

// defaultTimeout is Envoy's.
const defaultTimeout = 20 * time.Millisecond

// Validate checks what Envoy's proto validation checks.
func (c *Config) Validate(path string, errs *config.Errors) {
	if c.Domain == "" {
		errs.Add(config.Join(path, "domain"), "required")
	}
	if c.Stage > 10 {
		errs.Add(config.Join(path, "stage"), "must be at most 10, got %d", c.Stage)
	}
	switch c.RequestType {
	case "", "both", "internal", "external":
	default:
		errs.Add(config.Join(path, "request_type"), "must be both, internal or external, got %q", c.RequestType)
	}
	g := c.RateLimitService.GrpcService
	if g == nil || g.EnvoyGrpc == nil || g.EnvoyGrpc.ClusterName == "" {
		errs.Add(config.Join(path, "rate_limit_service.grpc_service.envoy_grpc.cluster_name"), "required")
	}
	switch c.RateLimitService.TransportAPIVersion {
	case "", "V3":
	default:
		errs.Add(config.Join(path, "rate_limit_service.transport_api_version"), "only V3 is supported, got %q", c.RateLimitService.TransportAPIVersion)
	}
	switch c.EnableXRatelimitHeaders {
	case "", "OFF", "DRAFT_VERSION_03":
	default:
		errs.Add(config.Join(path, "enable_x_ratelimit_headers"), "must be OFF or DRAFT_VERSION_03, got %q", c.EnableXRatelimitHeaders)
	}
	if c.Timeout != nil && c.Timeout.D() <= 0 {
		errs.Add(config.Join(path, "timeout"), "must be above 0")
	}
}

// ClusterRefs names the rate limit service's cluster, for the loader's
// check.
func (c *Config) ClusterRefs(path string) []config.ClusterRef {
	if g := c.RateLimitService.GrpcService; g != nil && g.EnvoyGrpc != nil {
		return []config.ClusterRef{{Path: config.Join(path, "rate_limit_service.grpc_service.envoy_grpc.cluster_name"), Name: g.EnvoyGrpc.ClusterName}}
	}
	return nil
}
