package lb

import "sync/atomic"

// Endpoint is what a balancer knows of one host.
type Endpoint struct {
	// Key places the host for ring_hash and maglev; see HashKey. Other
	// policies ignore it.
	Key string
	// Weight is the load-balancing weight; 0 is treated as 1.
	Weight uint32
	// Active counts the host's in-flight requests for least_request; it
	// may be nil, which reads as 0.
	Active *atomic.Int64
}

// Picker is an immutable snapshot built from the healthy endpoints. Pick
// never blocks, never allocates, is safe for concurrent use, and returns an
// index into the endpoints it was built from (-1 when it has none). hash is
// the request's hash when hasHash is true; policies that do not hash ignore
// it.
type Picker interface {
	Pick(hash uint64, hasHash bool) int
}

// Policy builds Pickers; Name is how config refers to it. Build copies what
// it needs: the caller may reuse eps afterwards, but the Active counters are
// kept and read on every pick.
type Policy interface {
	Name() string
	Build(eps []Endpoint) (Picker, error)
}

// emptyPicker is the Picker of an endpoint set with no hosts.
type emptyPicker struct{}

func (emptyPicker) Pick(uint64, bool) int { return -1 }

// singlePicker always picks the only endpoint.
type singlePicker struct{}

func (singlePicker) Pick(uint64, bool) int { return 0 }

// weightOf reads an endpoint weight; Envoy refuses weight 0, sluice treats
// it as 1 so a half-built endpoint never vanishes from the schedule.
func weightOf(e Endpoint) uint64 {
	if e.Weight == 0 {
		return 1
	}
	return uint64(e.Weight)
}

// allWeightsEqual reports whether every endpoint has the same weight.
func allWeightsEqual(eps []Endpoint) bool {
	for _, e := range eps[1:] {
		if weightOf(e) != weightOf(eps[0]) {
			return false
		}
	}
	return true
}

// activeOf reads an endpoint's in-flight count; nil and negative read as 0.
func activeOf(a *atomic.Int64) uint64 {
	if a == nil {
		return 0
	}
	if v := a.Load(); v > 0 {
		return uint64(v)
	}
	return 0
}

var (
	_ Picker = emptyPicker{}
	_ Picker = singlePicker{}
)
