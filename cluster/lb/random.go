package lb

import (
	"fmt"
	"math/rand/v2"
)

// Random picks a uniformly random endpoint. Like Envoy's RandomLoadBalancer
// it ignores weights: a host set behind Envoy's random policy gets the same
// spread behind sluice's.
type Random struct{}

// NewRandom returns the policy.
func NewRandom(cfg RandomConfig) (*Random, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("lb: %s: %w", RandomName, err)
	}
	return &Random{}, nil
}

// Name returns "random".
func (*Random) Name() string { return RandomName }

// randomPicker picks uniformly among n hosts.
type randomPicker struct{ n uint64 }

func (p randomPicker) Pick(uint64, bool) int { return int(mulHi64(rand.Uint64(), p.n)) }

// Build returns a uniform picker.
func (*Random) Build(eps []Endpoint) (Picker, error) {
	switch len(eps) {
	case 0:
		return emptyPicker{}, nil
	case 1:
		return singlePicker{}, nil
	}
	return randomPicker{n: uint64(len(eps))}, nil
}

var (
	_ Policy = (*Random)(nil)
	_ Picker = randomPicker{}
)
