package lb

import (
	"math"
	"testing"
)

// splitmix is SplitMix64's finalizer: a cheap, well-mixed stand-in for
// request hashes.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// checkShares calls pick n times and checks that host i's share is within
// tol (absolute) of want[i]/sum(want).
func checkShares(t *testing.T, pick func(i int) int, n int, want []float64, tol float64) {
	t.Helper()
	counts := make([]int, len(want))
	for i := range n {
		h := pick(i)
		if h < 0 || h >= len(want) {
			t.Fatalf("pick %d returned %d, want 0..%d", i, h, len(want)-1)
		}
		counts[h]++
	}
	var sum float64
	for _, w := range want {
		sum += w
	}
	for i, c := range counts {
		got, exp := float64(c)/float64(n), want[i]/sum
		if math.Abs(got-exp) > tol {
			t.Errorf("host %d share = %.4f, want %.4f ± %.3f (counts %v)", i, got, exp, tol, counts)
		}
	}
}
