package dynamo

import "github.com/sluice-proxy/sluice/config"

// Name is the filter's key in http_filters (Envoy's envoy.filters.http.dynamo).
const Name = "dynamo"

// Config is Envoy's Dynamo (which has no fields) plus sluice's bound.
type Config struct {
	// MaxBodyBytes bounds the request and response bytes kept for parsing;
	// a longer body is forwarded whole but not parsed (invalid_req_body /
	// invalid_resp_body count it). Default 1 MiB.
	MaxBodyBytes int `yaml:"max_body_bytes" json:"max_body_bytes,omitempty"`
}

// NewConfig returns a config with the defaults set.
func NewConfig() *Config { return &Config{MaxBodyBytes: 1 << 20} }

// Validate records a bound that is not positive.
func (c *Config) Validate(path string, errs *config.Errors) {
	if c.MaxBodyBytes <= 0 {
		errs.Add(config.Join(path, "max_body_bytes"), "must be positive")
	}
}
