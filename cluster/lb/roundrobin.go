package lb

import (
	"fmt"
	"math/rand/v2"
	"sync/atomic"
)

// maxSchedule bounds a weighted round-robin schedule (one int32 a slot);
// larger weight sums are reduced by their gcd and then scaled down.
const maxSchedule = 1 << 16

// RoundRobin rotates over the endpoints. With equal weights it is a plain
// rotation; with unequal weights it walks a precomputed smooth weighted
// round-robin schedule (nginx's algorithm: each step every host gains its
// weight and the largest current value wins and pays the total), so 5:1:1
// yields a a b a c a a rather than bursts. Envoy uses an EDF scheduler here,
// which gives the same shares but bursts at ties (a a a a b c a); nothing
// depends on the exact order, so sluice takes the smoother one. Each
// snapshot starts at a random offset, as Envoy seeds its schedulers, so
// that rebuilds do not all hit the first host.
type RoundRobin struct{}

// NewRoundRobin returns the policy.
func NewRoundRobin(cfg RoundRobinConfig) (*RoundRobin, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("lb: %s: %w", RoundRobinName, err)
	}
	return &RoundRobin{}, nil
}

// Name returns "round_robin".
func (*RoundRobin) Name() string { return RoundRobinName }

// rotationPicker is plain round robin over n hosts.
type rotationPicker struct {
	n    uint64
	next atomic.Uint64
}

func (p *rotationPicker) Pick(uint64, bool) int { return int((p.next.Add(1) - 1) % p.n) }

// schedulePicker walks a precomputed schedule of endpoint indexes.
type schedulePicker struct {
	sched []int32
	next  atomic.Uint64
}

func (p *schedulePicker) Pick(uint64, bool) int {
	return int(p.sched[(p.next.Add(1)-1)%uint64(len(p.sched))])
}

// Build returns a rotation or a schedule; O(W·n) for weight sum W.
func (*RoundRobin) Build(eps []Endpoint) (Picker, error) {
	switch {
	case len(eps) == 0:
		return emptyPicker{}, nil
	case len(eps) == 1:
		return singlePicker{}, nil
	case allWeightsEqual(eps):
		p := &rotationPicker{n: uint64(len(eps))}
		p.next.Store(rand.Uint64N(p.n))
		return p, nil
	}
	sched := smoothSchedule(scheduleWeights(eps))
	p := &schedulePicker{sched: sched}
	p.next.Store(rand.Uint64N(uint64(len(sched))))
	return p, nil
}

// scheduleWeights returns the weights divided by their gcd and, when their
// sum still exceeds maxSchedule (and there are fewer hosts than that),
// scaled down proportionally with every host keeping at least 1.
func scheduleWeights(eps []Endpoint) []int64 {
	ws := make([]int64, len(eps))
	var g, sum int64
	for i, e := range eps {
		ws[i] = int64(weightOf(e))
		g = gcd(g, ws[i])
	}
	for i := range ws {
		ws[i] /= g
		sum += ws[i]
	}
	if sum > maxSchedule && len(ws) < maxSchedule {
		for i := range ws {
			ws[i] = max(1, ws[i]*maxSchedule/sum)
		}
	}
	return ws
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// smoothSchedule runs smooth weighted round robin for one full period (the
// weight sum), after which its state repeats. Ties go to the lower index.
func smoothSchedule(ws []int64) []int32 {
	var total int64
	for _, w := range ws {
		total += w
	}
	cur := make([]int64, len(ws))
	sched := make([]int32, total)
	for k := range sched {
		best := 0
		for i, w := range ws {
			cur[i] += w
			if cur[i] > cur[best] {
				best = i
			}
		}
		cur[best] -= total
		sched[k] = int32(best)
	}
	return sched
}

var (
	_ Policy = (*RoundRobin)(nil)
	_ Picker = (*rotationPicker)(nil)
	_ Picker = (*schedulePicker)(nil)
)
