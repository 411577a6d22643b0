package lb

import (
	"errors"
	"fmt"
	"math"
)

// Policy names, as written in config.
const (
	RoundRobinName   = "round_robin"
	RandomName       = "random"
	LeastRequestName = "least_request"
	RingHashName     = "ring_hash"
	MaglevName       = "maglev"
)

// Envoy's limits and defaults.
const (
	DefaultMinRingSize     = 1024
	DefaultMaxRingSize     = 8 * 1024 * 1024 // also the largest allowed ring
	DefaultMaglevTableSize = 65537           // the paper's recommendation
	MaxMaglevTableSize     = 5000011         // Envoy's proto limit
	DefaultChoiceCount     = 2
	DefaultActiveReqBias   = 1.0
)

// Hash functions ring_hash accepts.
const (
	HashXX      = "XX_HASH"
	HashMurmur2 = "MURMUR_HASH_2"
)

// FieldError is one invalid config field; Field is the YAML name.
type FieldError struct {
	Field  string
	Reason string
}

// Error returns "field: reason".
func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// RoundRobinConfig configures round_robin; it has no fields yet.
type RoundRobinConfig struct{}

// DefaultRoundRobinConfig returns round_robin's defaults.
func DefaultRoundRobinConfig() *RoundRobinConfig { return &RoundRobinConfig{} }

// Validate always succeeds.
func (c *RoundRobinConfig) Validate() error { return nil }

// RandomConfig configures random; it has no fields.
type RandomConfig struct{}

// DefaultRandomConfig returns random's defaults.
func DefaultRandomConfig() *RandomConfig { return &RandomConfig{} }

// Validate always succeeds.
func (c *RandomConfig) Validate() error { return nil }

// LeastRequestConfig configures least_request (Envoy's LeastRequestLbConfig).
type LeastRequestConfig struct {
	// ChoiceCount is how many random hosts are compared when all weights
	// are equal. Default 2; at least 2.
	ChoiceCount uint32 `yaml:"choice_count" json:"choice_count"`
	// ActiveRequestBias is the exponent in weight/(active+1)^bias used when
	// weights differ. Default 1.0; 0 makes it weighted round robin.
	ActiveRequestBias float64 `yaml:"active_request_bias" json:"active_request_bias"`
}

// DefaultLeastRequestConfig returns least_request's defaults.
func DefaultLeastRequestConfig() *LeastRequestConfig {
	return &LeastRequestConfig{ChoiceCount: DefaultChoiceCount, ActiveRequestBias: DefaultActiveReqBias}
}

// Validate checks choice_count and active_request_bias.
func (c *LeastRequestConfig) Validate() error {
	var errs []error
	if c.ChoiceCount < 2 {
		errs = append(errs, fieldErr("choice_count", "must be at least 2, got %d", c.ChoiceCount))
	}
	if c.ActiveRequestBias < 0 || math.IsNaN(c.ActiveRequestBias) || math.IsInf(c.ActiveRequestBias, 0) {
		errs = append(errs, fieldErr("active_request_bias", "must be a finite number >= 0, got %v", c.ActiveRequestBias))
	}
	return errors.Join(errs...)
}

// RingHashConfig configures ring_hash (Envoy's RingHashLbConfig).
type RingHashConfig struct {
	// MinimumRingSize is the least number of ring entries. Default 1024.
	MinimumRingSize uint64 `yaml:"minimum_ring_size" json:"minimum_ring_size"`
	// MaximumRingSize caps the ring. Default and limit 8388608.
	MaximumRingSize uint64 `yaml:"maximum_ring_size" json:"maximum_ring_size"`
	// HashFunction hashes host keys onto the ring: XX_HASH (default) or
	// MURMUR_HASH_2 (Envoy's std::hash-compatible 64-bit murmur).
	HashFunction string `yaml:"hash_function" json:"hash_function"`
	// UseHostnameForHashing makes HashKey use the hostname, not "ip:port".
	UseHostnameForHashing bool `yaml:"use_hostname_for_hashing" json:"use_hostname_for_hashing"`
}

// DefaultRingHashConfig returns ring_hash's defaults.
func DefaultRingHashConfig() *RingHashConfig {
	return &RingHashConfig{MinimumRingSize: DefaultMinRingSize, MaximumRingSize: DefaultMaxRingSize, HashFunction: HashXX}
}

// Validate checks ring sizes and the hash function.
func (c *RingHashConfig) Validate() error {
	var errs []error
	if c.MinimumRingSize < 1 || c.MinimumRingSize > DefaultMaxRingSize {
		errs = append(errs, fieldErr("minimum_ring_size", "must be 1..%d, got %d", DefaultMaxRingSize, c.MinimumRingSize))
	}
	if c.MaximumRingSize < 1 || c.MaximumRingSize > DefaultMaxRingSize {
		errs = append(errs, fieldErr("maximum_ring_size", "must be 1..%d, got %d", DefaultMaxRingSize, c.MaximumRingSize))
	}
	if c.MinimumRingSize > c.MaximumRingSize {
		errs = append(errs, fieldErr("minimum_ring_size", "(%d) > maximum_ring_size (%d)", c.MinimumRingSize, c.MaximumRingSize))
	}
	if c.HashFunction != HashXX && c.HashFunction != HashMurmur2 {
		errs = append(errs, fieldErr("hash_function", "unknown %q (known: %s, %s)", c.HashFunction, HashXX, HashMurmur2))
	}
	return errors.Join(errs...)
}

// MaglevConfig configures maglev (Envoy's MaglevLbConfig).
type MaglevConfig struct {
	// TableSize is the lookup table's size: a prime up to 5000011, larger
	// than the number of hosts for an even spread. Default 65537.
	TableSize uint64 `yaml:"table_size" json:"table_size"`
	// UseHostnameForHashing makes HashKey use the hostname, not "ip:port".
	UseHostnameForHashing bool `yaml:"use_hostname_for_hashing" json:"use_hostname_for_hashing"`
}

// DefaultMaglevConfig returns maglev's defaults.
func DefaultMaglevConfig() *MaglevConfig { return &MaglevConfig{TableSize: DefaultMaglevTableSize} }

// Validate checks that table_size is a prime within Envoy's limit.
func (c *MaglevConfig) Validate() error {
	if c.TableSize > MaxMaglevTableSize {
		return fieldErr("table_size", "must be at most %d, got %d", MaxMaglevTableSize, c.TableSize)
	}
	if !isPrime(c.TableSize) {
		return fieldErr("table_size", "must be a prime number, got %d", c.TableSize)
	}
	return nil
}

// isPrime is trial division; table sizes are at most ~5e6, so at most
// ~1100 odd divisors are tried, once per config load.
func isPrime(n uint64) bool {
	if n < 2 {
		return false
	}
	if n%2 == 0 {
		return n == 2
	}
	for d := uint64(3); d*d <= n; d += 2 {
		if n%d == 0 {
			return false
		}
	}
	return true
}

var (
	_ Config = (*RoundRobinConfig)(nil)
	_ Config = (*RandomConfig)(nil)
	_ Config = (*LeastRequestConfig)(nil)
	_ Config = (*RingHashConfig)(nil)
	_ Config = (*MaglevConfig)(nil)
)
