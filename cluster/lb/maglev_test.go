package lb

import (
	"testing"
)

// Vectors from Envoy's test/extensions/load_balancing_policies/maglev/
// maglev_lb_test.cc: the table as Envoy logs it for table size 7 or 17,
// read back with hashes 0..size-1. Each case names the Envoy test.
func TestMaglevEnvoyVectors(t *testing.T) {
	named := func(names ...string) []Endpoint {
		eps := make([]Endpoint, len(names))
		for i, n := range names {
			eps[i] = Endpoint{Key: n, Weight: 1}
		}
		return eps
	}
	tests := []struct {
		name      string
		eps       []Endpoint
		size      uint64
		want      []int
		wantStats MaglevStats
	}{
		{"Basic", hosts(90, 91, 92, 93, 94, 95), 7, []int{2, 4, 0, 1, 5, 0, 3}, MaglevStats{1, 2}},
		{"BasicWithHostName", named("90", "91", "92", "93", "94", "95"), 7, []int{2, 5, 0, 3, 4, 1, 0}, MaglevStats{1, 2}},
		{"Weighted", []Endpoint{{Key: "127.0.0.1:90", Weight: 1}, {Key: "127.0.0.1:91", Weight: 2}}, 17,
			[]int{1, 0, 0, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 0, 1}, MaglevStats{6, 11}},
		{"WeightedSingleHost", []Endpoint{{Key: "127.0.0.1:90", Weight: 7}}, 17,
			[]int{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, MaglevStats{1, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pk := mustBuild(t, mustPolicy(t, MaglevName, &MaglevConfig{TableSize: tt.size}), tt.eps)
			if got := pk.(*maglevPicker).MaglevStats(); got != tt.wantStats {
				t.Errorf("stats = %+v, want %+v", got, tt.wantStats)
			}
			for round := range 3 {
				for i, want := range tt.want {
					h := uint64(round*len(tt.want) + i)
					if got := pk.Pick(h, true); got != want {
						t.Errorf("Pick(%d) = %d, want %d", h, got, want)
					}
				}
			}
		})
	}
}

// Weights 1:2:3 split a uniform hash space in those proportions.
func TestMaglevWeightedShare(t *testing.T) {
	pk := mustBuild(t, mustPolicy(t, MaglevName, nil), weighted(1, 2, 3))
	checkShares(t, func(i int) int { return pk.Pick(splitmix(uint64(i)), true) }, 600_000, []float64{1, 2, 3}, 0.01)
}

func TestMaglevBuildErrors(t *testing.T) {
	p := mustPolicy(t, MaglevName, nil)
	if _, err := p.Build([]Endpoint{{Key: "a:1"}, {Key: ""}}); err == nil {
		t.Fatal("Build with an empty key succeeded, want an error")
	}
}
