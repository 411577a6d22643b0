package lb

import "testing"

// Envoy's random balancer ignores weights; so does sluice's.
func TestRandomUniform(t *testing.T) {
	pk := mustBuild(t, mustPolicy(t, RandomName, nil), weighted(1, 2, 3))
	checkShares(t, func(int) int { return pk.Pick(7, true) }, 600_000, []float64{1, 1, 1}, 0.01)
}
