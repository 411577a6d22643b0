package lb

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
)

// LeastRequest is Envoy's least_request balancer.
//
// With equal weights it is power-of-N-choices: choice_count hosts drawn at
// random, the first of them with the fewest active requests wins.
//
// With unequal weights it is Envoy's earliest-deadline-first schedule over
// the effective weight weight/(active+1)^active_request_bias, recomputed for
// a host each time it is picked. Envoy keeps one scheduler per worker
// thread; sluice keeps one per shard (2×GOMAXPROCS) and a pick takes the
// first shard it can TryLock, so Pick never waits. If every shard is busy
// at that instant it falls back to choice_count random hosts and takes the
// highest effective weight.
type LeastRequest struct{ cfg LeastRequestConfig }

// NewLeastRequest validates cfg and returns the policy.
func NewLeastRequest(cfg LeastRequestConfig) (*LeastRequest, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("lb: %s: %w", LeastRequestName, err)
	}
	return &LeastRequest{cfg: cfg}, nil
}

// Name returns "least_request".
func (*LeastRequest) Name() string { return LeastRequestName }

// Config returns the policy's config.
func (l *LeastRequest) Config() LeastRequestConfig { return l.cfg }

// Build returns a P2C picker for equal weights and an EDF picker otherwise.
func (l *LeastRequest) Build(eps []Endpoint) (Picker, error) {
	switch {
	case len(eps) == 0:
		return emptyPicker{}, nil
	case len(eps) == 1:
		return singlePicker{}, nil
	}
	active := make([]*atomic.Int64, len(eps))
	for i, e := range eps {
		active[i] = e.Active
	}
	if allWeightsEqual(eps) {
		return &p2cPicker{active: active, n: uint64(len(eps)), choices: l.cfg.ChoiceCount}, nil
	}
	p := &edfPicker{active: active, weights: make([]float64, len(eps)), bias: l.cfg.ActiveRequestBias, choices: l.cfg.ChoiceCount}
	for i, e := range eps {
		p.weights[i] = float64(weightOf(e))
	}
	p.shards = make([]edfShard, 2*runtime.GOMAXPROCS(0))
	for i := range p.shards {
		p.shards[i].init(p)
	}
	return p, nil
}

// p2cPicker is power-of-N-choices over hosts of equal weight.
type p2cPicker struct {
	active  []*atomic.Int64
	n       uint64
	choices uint32
}

func (p *p2cPicker) Pick(uint64, bool) int {
	best, bestActive := -1, uint64(0)
	for range p.choices {
		i := int(mulHi64(rand.Uint64(), p.n))
		// As Envoy: a later sample replaces the candidate only when it
		// has strictly fewer active requests.
		if a := activeOf(p.active[i]); best < 0 || a < bestActive {
			best, bestActive = i, a
		}
	}
	return best
}

// edfPicker is Envoy's weighted least-request EDF, sharded.
type edfPicker struct {
	active  []*atomic.Int64
	weights []float64
	bias    float64
	choices uint32
	shards  []edfShard
}

// effective is weight/(active+1)^bias, as Envoy's hostWeight.
func (p *edfPicker) effective(i int) float64 {
	w := p.weights[i]
	switch p.bias {
	case 0:
		return w
	case 1:
		return w / float64(activeOf(p.active[i])+1)
	default:
		return w / math.Pow(float64(activeOf(p.active[i])+1), p.bias)
	}
}

func (p *edfPicker) Pick(uint64, bool) int {
	start := rand.Uint64()
	for k := range uint64(len(p.shards)) {
		s := &p.shards[(start+k)%uint64(len(p.shards))]
		if s.mu.TryLock() {
			i := s.pickAndAdd(p)
			s.mu.Unlock()
			return i
		}
	}
	return p.fallback()
}

// fallback runs when every shard is locked: the best effective weight of
// choice_count random hosts.
func (p *edfPicker) fallback() int {
	best, bestW := -1, 0.0
	for range p.choices {
		i := int(mulHi64(rand.Uint64(), uint64(len(p.weights))))
		if w := p.effective(i); best < 0 || w > bestW {
			best, bestW = i, w
		}
	}
	return best
}

var (
	_ Policy = (*LeastRequest)(nil)
	_ Picker = (*p2cPicker)(nil)
	_ Picker = (*edfPicker)(nil)
)
