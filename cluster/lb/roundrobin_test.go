package lb

import (
	"slices"
	"strings"
	"testing"
)

func TestSmoothSchedule(t *testing.T) {
	tests := []struct {
		name    string
		weights []int64
		want    string
	}{
		// nginx's documented smooth WRR sequence for a=5, b=1, c=1.
		{"nginx 5:1:1", []int64{5, 1, 1}, "aabacaa"},
		{"1:2:3", []int64{1, 2, 3}, "cbacbc"},
		{"equal", []int64{1, 1, 1}, "abc"},
		{"4:2", []int64{2, 1}, "aba"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			for _, h := range smoothSchedule(tt.weights) {
				b.WriteByte(byte('a' + h))
			}
			if got := b.String(); got != tt.want {
				t.Errorf("schedule = %s, want %s", got, tt.want)
			}
		})
	}
}

// Picks follow the schedule cyclically from a random start; counting every
// run of the heavy host across the wrap-around, 5:1:1 never gives it 5 in a
// row (an unsmoothed "repeat w times" would give 5, Envoy's EDF 5 too).
func TestRoundRobinSmooth(t *testing.T) {
	pk := mustBuild(t, mustPolicy(t, RoundRobinName, nil), weighted(5, 1, 1))
	seq := make([]int, 7*100)
	for i := range seq {
		seq[i] = pk.Pick(0, false)
	}
	run, longest := 0, 0
	for _, h := range seq {
		if h == 0 {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	if longest > 4 {
		t.Errorf("heavy host picked %d times in a row, want at most 4", longest)
	}
	// Every window of one period holds exactly the weights.
	for start := 0; start+7 <= len(seq); start++ {
		c := [3]int{}
		for _, h := range seq[start : start+7] {
			c[h]++
		}
		if c != [3]int{5, 1, 1} {
			t.Fatalf("window at %d has counts %v, want [5 1 1]", start, c)
		}
	}
}

func TestRoundRobinShares(t *testing.T) {
	pk := mustBuild(t, mustPolicy(t, RoundRobinName, nil), weighted(1, 2, 3))
	checkShares(t, func(int) int { return pk.Pick(0, false) }, 600_000, []float64{1, 2, 3}, 0.01)
}

func TestRoundRobinEqualWeightsRotate(t *testing.T) {
	pk := mustBuild(t, mustPolicy(t, RoundRobinName, nil), weighted(3, 3, 3, 3))
	first := pk.Pick(0, false)
	for i := 1; i < 12; i++ {
		if got, want := pk.Pick(0, false), (first+i)%4; got != want {
			t.Fatalf("pick %d = %d, want %d", i, got, want)
		}
	}
}

// Successive snapshots start at random offsets, as Envoy seeds its
// schedulers; 50 builds all starting at host 0 would be a 1-in-10^30 event.
func TestRoundRobinRandomStart(t *testing.T) {
	p := mustPolicy(t, RoundRobinName, nil)
	var starts []int
	for range 50 {
		starts = append(starts, mustBuild(t, p, weighted(1, 1, 1, 1)).Pick(0, false))
	}
	slices.Sort(starts)
	if starts[0] == starts[len(starts)-1] {
		t.Errorf("every snapshot started at host %d", starts[0])
	}
}

func TestScheduleWeights(t *testing.T) {
	tests := []struct {
		name    string
		weights []uint32
		want    []int64
	}{
		{"gcd", []uint32{4, 8, 12}, []int64{1, 2, 3}},
		{"zero is one", []uint32{0, 2}, []int64{1, 2}},
		{"scaled", []uint32{1, 1 << 20}, []int64{1, 65535}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := scheduleWeights(weighted(tt.weights...)); !slices.Equal(got, tt.want) {
				t.Errorf("scheduleWeights = %v, want %v", got, tt.want)
			}
		})
	}
}
