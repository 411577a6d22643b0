package localratelimit

import (
	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/filters/connlimit"
)

// Config is Envoy's network LocalRateLimit
// (envoy.extensions.filters.network.local_ratelimit.v3).
type Config struct {
	// StatPrefix names the stats: local_ratelimit.<stat_prefix>.*. Required.
	StatPrefix string `yaml:"stat_prefix" json:"stat_prefix"`
	// TokenBucket: each new connection takes a token; without one it is
	// closed. Required.
	TokenBucket *TokenBucket `yaml:"token_bucket" json:"token_bucket"`
	// RuntimeEnabled: default_value decides (sluice has no runtime). Nil:
	// enabled.
	RuntimeEnabled *connlimit.RuntimeFlag `yaml:"runtime_enabled" json:"runtime_enabled,omitempty"`
}

// TokenBucket is Envoy's envoy.type.v3.TokenBucket (config.TokenBucket).
type TokenBucket = config.TokenBucket

// NewConfig returns an empty config.
func NewConfig() *Config { return &Config{} }

// Validate checks the required fields and Envoy's bounds.
func (c *Config) Validate(path string, errs *config.Errors) {
	if c.StatPrefix == "" {
		errs.Add(config.Join(path, "stat_prefix"), "required")
	}
	tb := c.TokenBucket
	p := config.Join(path, "token_bucket")
	if tb == nil {
		errs.Add(p, "required") // its fields are checked by its own Validate
	}
}
