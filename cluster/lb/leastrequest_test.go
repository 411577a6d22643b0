package lb

import (
	"sync/atomic"
	"testing"
)

func withActive(eps []Endpoint, active ...int64) []Endpoint {
	for i := range eps {
		eps[i].Active = new(atomic.Int64)
		eps[i].Active.Store(active[i])
	}
	return eps
}

// With equal weights and two choices, the idle host of three wins whenever
// it is drawn at least once: 1 - (2/3)^2 = 5/9 of picks.
func TestLeastRequestPrefersIdle(t *testing.T) {
	tests := []struct {
		name    string
		choices uint32
		want    []float64
	}{
		{"choice_count 2", 2, []float64{2.0 / 9, 5.0 / 9, 2.0 / 9}},
		// 1 - (2/3)^5 = 211/243; the busy two split the rest.
		{"choice_count 5", 5, []float64{16.0 / 243, 211.0 / 243, 16.0 / 243}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultLeastRequestConfig()
			cfg.ChoiceCount = tt.choices
			pk := mustBuild(t, mustPolicy(t, LeastRequestName, cfg), withActive(weighted(1, 1, 1), 10, 0, 10))
			checkShares(t, func(int) int { return pk.Pick(0, false) }, 300_000, tt.want, 0.01)
		})
	}
}

// With unequal weights and no load, the EDF gives the weights' shares.
func TestLeastRequestWeightedShares(t *testing.T) {
	pk := mustBuild(t, mustPolicy(t, LeastRequestName, nil), withActive(weighted(1, 2, 3), 0, 0, 0))
	checkShares(t, func(int) int { return pk.Pick(0, false) }, 600_000, []float64{1, 2, 3}, 0.01)
}

// Effective weight is weight/(active+1)^bias: a weight-2 host with 3 in
// flight counts 0.5 against an idle weight-1 host's 1, so it gets a third.
func TestLeastRequestWeightedPrefersIdle(t *testing.T) {
	tests := []struct {
		name string
		bias float64
		want []float64
	}{
		{"bias 1", 1, []float64{0.5, 1}},
		{"bias 0 ignores load", 0, []float64{2, 1}},
		{"bias 0.5", 0.5, []float64{1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultLeastRequestConfig()
			cfg.ActiveRequestBias = tt.bias
			pk := mustBuild(t, mustPolicy(t, LeastRequestName, cfg), withActive(weighted(2, 1), 3, 0))
			checkShares(t, func(int) int { return pk.Pick(0, false) }, 300_000, tt.want, 0.01)
		})
	}
}

// The EDF reads load at every pick: when the busy host drains, it wins its
// share back without a rebuild.
func TestLeastRequestFollowsLoad(t *testing.T) {
	eps := withActive(weighted(2, 1), 1000, 0)
	pk := mustBuild(t, mustPolicy(t, LeastRequestName, nil), eps)
	for range 1000 {
		pk.Pick(0, false)
	}
	eps[0].Active.Store(0)
	for range 1000 { // let stale deadlines expire
		pk.Pick(0, false)
	}
	checkShares(t, func(int) int { return pk.Pick(0, false) }, 300_000, []float64{2, 1}, 0.01)
}

func TestLeastRequestFallback(t *testing.T) {
	pk := mustBuild(t, mustPolicy(t, LeastRequestName, nil), withActive(weighted(1, 1000), 0, 0)).(*edfPicker)
	for i := range pk.shards {
		pk.shards[i].mu.Lock()
	}
	defer func() {
		for i := range pk.shards {
			pk.shards[i].mu.Unlock()
		}
	}()
	// With every shard held, picks still return, by best-of-two.
	checkShares(t, func(int) int { return pk.Pick(0, false) }, 100_000, []float64{1, 3}, 0.01)
}
