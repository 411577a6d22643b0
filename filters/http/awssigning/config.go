package awssigning

import (
	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/router"
)

// Name is the filter's key in http_filters (Envoy's
// envoy.filters.http.aws_request_signing).
const Name = "aws_request_signing"

// defaultMaxPayload is Envoy's default per-connection buffer limit (1 MiB):
// a body to be hashed that is larger is refused with 413, as Envoy does.
const defaultMaxPayload = 1 << 20

// Config is Envoy's AwsRequestSigning.
type Config struct {
	// ServiceName is the SigV4 service ("s3", "dynamodb", "lambda").
	ServiceName string `yaml:"service_name" json:"service_name"`
	// Region is the SigV4 region ("us-east-1").
	Region string `yaml:"region" json:"region"`
	// HostRewrite replaces the Host header before signing.
	HostRewrite string `yaml:"host_rewrite" json:"host_rewrite,omitempty"`
	// UseUnsignedPayload signs "UNSIGNED-PAYLOAD" instead of hashing
	// (and buffering) the body.
	UseUnsignedPayload bool `yaml:"use_unsigned_payload" json:"use_unsigned_payload,omitempty"`
	// MatchExcludedHeaders names request headers left out of the
	// signature, besides x-forwarded-for, x-forwarded-proto and
	// x-amzn-trace-id which are always left out.
	MatchExcludedHeaders []router.StringMatcher `yaml:"match_excluded_headers" json:"match_excluded_headers,omitempty"`
	// MaxPayloadBytes bounds the body buffered for hashing (sluice's
	// stand-in for Envoy's per-connection buffer limit; default 1 MiB).
	MaxPayloadBytes int64 `yaml:"max_payload_bytes" json:"max_payload_bytes,omitempty"`
}

// NewConfig returns a config with the defaults set.
func NewConfig() *Config { return &Config{MaxPayloadBytes: defaultMaxPayload} }

// Validate records missing names and bad matchers.
func (c *Config) Validate(path string, errs *config.Errors) {
	if c.ServiceName == "" {
		errs.Add(config.Join(path, "service_name"), "required")
	}
	if c.Region == "" {
		errs.Add(config.Join(path, "region"), "required (SigV4 signs for one region)")
	}
	if c.MaxPayloadBytes <= 0 {
		errs.Add(config.Join(path, "max_payload_bytes"), "must be positive")
	}
	for i := range c.MatchExcludedHeaders {
		c.MatchExcludedHeaders[i].Validate(config.Index(config.Join(path, "match_excluded_headers"), i), errs)
	}
}
