package localratelimit

import (
	"time"

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

// TokenBucket is Envoy's envoy.type.v3.TokenBucket.
type TokenBucket struct {
	// MaxTokens is the bucket's size, and its content at start. Required.
	MaxTokens uint32 `yaml:"max_tokens" json:"max_tokens"`
	// TokensPerFill are added every FillInterval, up to MaxTokens. Default 1.
	TokensPerFill *uint32 `yaml:"tokens_per_fill" json:"tokens_per_fill,omitempty"`
	// FillInterval is required; Envoy refuses less than 50ms.
	FillInterval config.Duration `yaml:"fill_interval" json:"fill_interval"`
}

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
		errs.Add(p, "required")
		return
	}
	if tb.MaxTokens < 1 {
		errs.Add(config.Join(p, "max_tokens"), "must be at least 1")
	}
	if tb.TokensPerFill != nil && *tb.TokensPerFill < 1 {
		errs.Add(config.Join(p, "tokens_per_fill"), "must be at least 1")
	}
	if tb.FillInterval.D() < 50*time.Millisecond {
		errs.Add(config.Join(p, "fill_interval"), "must be at least 50ms (Envoy's minimum), got %v", tb.FillInterval.D())
	}
}

// perFill returns tokens_per_fill or its default, 1.
func (tb *TokenBucket) perFill() uint32 {
	if tb.TokensPerFill == nil {
		return 1
	}
	return *tb.TokensPerFill
}
