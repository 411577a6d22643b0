package lb

import (
	"math"
	"testing"
)

// Vectors from Envoy's test/extensions/load_balancing_policies/ring_hash/
// ring_hash_lb_test.cc; each case names the Envoy test it reproduces.
func TestRingHashEnvoyVectors(t *testing.T) {
	named := func(names ...string) []Endpoint {
		eps := make([]Endpoint, len(names))
		for i, n := range names {
			eps[i] = Endpoint{Key: n, Weight: 1}
		}
		return eps
	}
	withWeights := func(eps []Endpoint, ws ...uint32) []Endpoint {
		for i := range eps {
			eps[i].Weight = ws[i]
		}
		return eps
	}
	type pick struct {
		hash uint64
		want int
	}
	tests := []struct {
		name      string
		eps       []Endpoint
		min, max  uint64
		hashFn    string
		wantStats RingStats
		picks     []pick
	}{
		{
			name: "Basic", eps: hosts(90, 91, 92, 93, 94, 95), min: 12,
			wantStats: RingStats{12, 2, 2},
			picks: []pick{
				{0, 4}, {math.MaxUint64, 4}, {3551244743356806947, 5}, {3551244743356806948, 3},
				{16117243373044804880, 0}, // Envoy feeds this as the random value
				// every point of the documented ring picks its owner
				{833437586790550860, 4}, {928266305478181108, 2}, {1033482794131418490, 0},
				{3851675632748031481, 3}, {5583722120771150861, 1}, {6311230543546372928, 1},
				{7700377290971790572, 3}, {13144177310400110813, 5}, {13444792449719432967, 2},
				{15516499411664133160, 4}, {16117243373044804889, 0}, {16117243373044804890, 4},
			},
		},
		{
			name: "BasicWithHostname", eps: named("90", "91", "92", "93", "94", "95"), min: 12,
			wantStats: RingStats{12, 2, 2},
			picks: []pick{
				{0, 5}, {math.MaxUint64, 5}, {7225015537174310577, 2}, {6803900775736438537, 3},
				{1975508444536362413, 5}, {2386806903309390596, 3}, {15364271037087512980, 4},
			},
		},
		{
			name: "BasicWithMurmur2", eps: hosts(80, 81, 82, 83, 84, 85), min: 12, hashFn: HashMurmur2,
			wantStats: RingStats{12, 2, 2},
			picks: []pick{
				{0, 5}, {math.MaxUint64, 5}, {1358027074129602068, 5}, {1358027074129602069, 3},
				{10150910876324007730, 2},
			},
		},
		{
			name: "UnevenHosts", eps: hosts(80, 81), min: 3,
			wantStats: RingStats{4, 2, 2},
			picks: []pick{{0, 0}, {5454692015285649509, 0}, {7859399908942313493, 1},
				{13838424394637650569, 0}, {16064866803292627174, 1}},
		},
		{
			name: "UnevenHosts/after", eps: hosts(81, 82), min: 3,
			wantStats: RingStats{4, 2, 2},
			picks:     []pick{{0, 0}, {8241336090459785962, 1}, {12882406409176325258, 1}},
		},
		{
			name: "HostWeightedTinyRing", eps: withWeights(hosts(90, 91, 92), 1, 2, 3), min: 6, max: 6,
			wantStats: RingStats{6, 1, 3},
			picks: []pick{
				{928266305478181108, 2}, {4443673547860492590, 2}, {5583722120771150861, 1},
				{6311230543546372928, 1}, {13444792449719432967, 2}, {16117243373044804889, 0},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultRingHashConfig()
			cfg.MinimumRingSize = tt.min
			if tt.max != 0 {
				cfg.MaximumRingSize = tt.max
			}
			if tt.hashFn != "" {
				cfg.HashFunction = tt.hashFn
			}
			pk := mustBuild(t, mustPolicy(t, RingHashName, cfg), tt.eps)
			if got := pk.(*ringPicker).RingStats(); got != tt.wantStats {
				t.Errorf("stats = %+v, want %+v", got, tt.wantStats)
			}
			for _, p := range tt.picks {
				if got := pk.Pick(p.hash, true); got != p.want {
					t.Errorf("Pick(%d) = %d, want %d", p.hash, got, p.want)
				}
			}
		})
	}
}

// Envoy's HostWeightedLargeRing: weights 1:2:3 on a 1024-point minimum ring
// split a uniform hash space in those proportions.
func TestRingHashWeightedShare(t *testing.T) {
	pk := mustBuild(t, mustPolicy(t, RingHashName, nil), weighted(1, 2, 3))
	checkShares(t, func(i int) int { return pk.Pick(splitmix(uint64(i)), true) }, 600_000, []float64{1, 2, 3}, 0.02)
}

func TestRingHashBuildErrors(t *testing.T) {
	p := mustPolicy(t, RingHashName, nil)
	tests := []struct {
		name string
		eps  []Endpoint
	}{
		{"empty key", []Endpoint{{Key: "a:1", Weight: 1}, {Key: "", Weight: 1}}},
		{"weight sum overflows uint32", []Endpoint{{Key: "a", Weight: math.MaxUint32}, {Key: "b", Weight: 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := p.Build(tt.eps); err == nil {
				t.Fatal("Build succeeded, want an error")
			}
		})
	}
}
