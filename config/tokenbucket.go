package config

import "time"

// TokenBucket is Envoy's envoy.type.v3.TokenBucket, as the network and HTTP
// local_ratelimit filters take it (internal/tokenbucket runs it).
type TokenBucket struct {
	// MaxTokens is the bucket's size and its content at start (required).
	MaxTokens uint32 `yaml:"max_tokens" json:"max_tokens"`
	// TokensPerFill are added every FillInterval, up to MaxTokens; 1 when
	// unset.
	TokensPerFill *uint32 `yaml:"tokens_per_fill" json:"tokens_per_fill,omitempty"`
	// FillInterval is the refill period (required, at least 50ms as Envoy
	// requires).
	FillInterval Duration `yaml:"fill_interval" json:"fill_interval"`
}

// Validate checks what Envoy's proto validation checks.
func (tb *TokenBucket) Validate(path string, errs *Errors) {
	if tb.MaxTokens == 0 {
		errs.Add(Join(path, "max_tokens"), "must be greater than 0")
	}
	if tb.TokensPerFill != nil && *tb.TokensPerFill == 0 {
		errs.Add(Join(path, "tokens_per_fill"), "must be greater than 0")
	}
	if tb.FillInterval.D() < 50*time.Millisecond {
		errs.Add(Join(path, "fill_interval"), "must be at least 50ms (Envoy's minimum), got %v", tb.FillInterval.D())
	}
}

// PerFill returns tokens_per_fill or its default, 1.
func (tb *TokenBucket) PerFill() uint32 {
	if tb.TokensPerFill == nil {
		return 1
	}
	return *tb.TokensPerFill
}
