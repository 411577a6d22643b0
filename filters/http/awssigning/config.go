package awssigning

import (
	"strings"
	"time"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/internal/awscreds"
	"github.com/sluice-proxy/sluice/router"
)

// Name is the filter's key in http_filters (Envoy's
// envoy.filters.http.aws_request_signing).
const Name = "aws_request_signing"

// EnvoyName is Envoy's filter name, also accepted as the
// typed_per_filter_config key.
const EnvoyName = "envoy.filters.http.aws_request_signing"

// defaultMaxPayload is Envoy's default per-connection buffer limit (1 MiB):
// a body to be hashed that is larger is refused with 413, as Envoy does.
const defaultMaxPayload = 1 << 20

// Envoy's query_string expiration: 5 s unless set, at most an hour.
const (
	defaultExpiration = 5 * time.Second
	maxExpiration     = time.Hour
)

// Signing algorithms (Envoy's SigningAlgorithm enum names).
const (
	SigV4  = "AWS_SIGV4"
	SigV4A = "AWS_SIGV4A"
)

// Config is Envoy's AwsRequestSigning.
type Config struct {
	// ServiceName is the SigV4 service ("s3", "dynamodb", "lambda").
	ServiceName string `yaml:"service_name" json:"service_name"`
	// Region is the SigV4 region ("us-east-1"), or for SigV4A a region
	// set ("us-east-1,us-west-*", "*"). Unset: AWS_REGION,
	// AWS_DEFAULT_REGION, the profile's region (awscreds.Region).
	Region string `yaml:"region" json:"region,omitempty"`
	// HostRewrite replaces the Host header before signing.
	HostRewrite string `yaml:"host_rewrite" json:"host_rewrite,omitempty"`
	// UseUnsignedPayload signs "UNSIGNED-PAYLOAD" instead of hashing
	// (and buffering) the body.
	UseUnsignedPayload bool `yaml:"use_unsigned_payload" json:"use_unsigned_payload,omitempty"`
	// MatchExcludedHeaders names request headers left out of the
	// signature, besides x-forwarded-for, x-forwarded-proto and
	// x-amzn-trace-id which are always left out.
	MatchExcludedHeaders []router.StringMatcher `yaml:"match_excluded_headers" json:"match_excluded_headers,omitempty"`
	// SigningAlgorithm is AWS_SIGV4 (default) or AWS_SIGV4A.
	SigningAlgorithm string `yaml:"signing_algorithm" json:"signing_algorithm,omitempty"`
	// QueryString, when set, puts the signature in the query string (a
	// presigned URL) instead of the Authorization header.
	QueryString *QueryString `yaml:"query_string" json:"query_string,omitempty"`
	// CredentialProvider replaces or modifies the default chain.
	CredentialProvider *awscreds.Config `yaml:"credential_provider" json:"credential_provider,omitempty"`
	// MaxPayloadBytes bounds the body buffered for hashing (sluice's
	// stand-in for Envoy's per-connection buffer limit; 0 or unset: 1 MiB).
	MaxPayloadBytes int64 `yaml:"max_payload_bytes" json:"max_payload_bytes,omitempty"`
}

// QueryString is Envoy's AwsRequestSigning.QueryString.
type QueryString struct {
	// ExpirationTime is X-Amz-Expires (default 5 s, at most 1 h).
	ExpirationTime *config.Duration `yaml:"expiration_time" json:"expiration_time,omitempty"`
}

// expiration is the presigned URL's lifetime.
func (q *QueryString) expiration() time.Duration {
	if q.ExpirationTime == nil {
		return defaultExpiration
	}
	return time.Duration(*q.ExpirationTime)
}

// PerRouteConfig is Envoy's AwsRequestSigningPerRoute: a route's own
// signing config, with its stats under <stat_prefix>aws_request_signing.
type PerRouteConfig struct {
	AwsRequestSigning *Config `yaml:"aws_request_signing" json:"aws_request_signing"`
	StatPrefix        string  `yaml:"stat_prefix" json:"stat_prefix,omitempty"`
}

// NewConfig returns a config with the defaults set.
func NewConfig() *Config { return &Config{MaxPayloadBytes: defaultMaxPayload, SigningAlgorithm: SigV4} }

// Validate records missing names and bad matchers.
func (c *Config) Validate(path string, errs *config.Errors) {
	if c.ServiceName == "" {
		errs.Add(config.Join(path, "service_name"), "required")
	}
	if c.MaxPayloadBytes < 0 {
		errs.Add(config.Join(path, "max_payload_bytes"), "must be positive")
	}
	switch c.SigningAlgorithm {
	case SigV4, "": // "": a nested config decoded without NewConfig's defaults
		if strings.ContainsAny(c.Region, ",*") {
			errs.Add(config.Join(path, "region"), "a region set (%q) needs signing_algorithm: AWS_SIGV4A", c.Region)
		}
	case SigV4A:
	default:
		errs.Add(config.Join(path, "signing_algorithm"), "AWS_SIGV4 or AWS_SIGV4A, got %q", c.SigningAlgorithm)
	}
	if q := c.QueryString; q != nil {
		if e := q.expiration(); e < time.Second || e > maxExpiration {
			errs.Add(config.Join(config.Join(path, "query_string"), "expiration_time"), "between 1s and 1h, got %v", e)
		}
	}
	// match_excluded_headers: each StringMatcher validates itself as it
	// is decoded.
}

// Validate requires the nested config.
func (p *PerRouteConfig) Validate(path string, errs *config.Errors) {
	if p.AwsRequestSigning == nil {
		errs.Add(config.Join(path, "aws_request_signing"), "required")
	}
}
