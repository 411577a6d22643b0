package lb

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/cespare/xxhash/v2"
)

// RingHash is Envoy's ring_hash (ketama) balancer. Each host gets
// scale*normalized_weight points, the i-th at xxHash64("<key>_<i>"); a
// request goes to the first point >= its hash, wrapping to the first point.
//
// Like Envoy, a pick without a hash uses a random 64-bit value as the hash,
// which makes ring_hash a (weighted) random balancer for such callers.
// Like Envoy, a host's point count is a running sum over the endpoints in
// the order given, so with fractional counts the order matters; with equal
// weights or whole counts it does not. Points of hosts with colliding keys
// tie; Envoy's unstable sort leaves the winner unspecified, sluice picks the
// endpoint that comes first.
type RingHash struct{ cfg RingHashConfig }

// NewRingHash validates cfg and returns the policy.
func NewRingHash(cfg RingHashConfig) (*RingHash, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("lb: %s: %w", RingHashName, err)
	}
	return &RingHash{cfg: cfg}, nil
}

// Name returns "ring_hash".
func (*RingHash) Name() string { return RingHashName }

// Config returns the policy's config.
func (r *RingHash) Config() RingHashConfig { return r.cfg }

// RingStats are Envoy's ring_hash_lb gauges for one built ring.
type RingStats struct {
	Size             uint64 // ring_hash_lb.size
	MinHashesPerHost uint64 // ring_hash_lb.min_hashes_per_host
	MaxHashesPerHost uint64 // ring_hash_lb.max_hashes_per_host
}

// ringPicker is a built ring: sorted point hashes and, at the same index,
// the endpoint owning the point.
type ringPicker struct {
	hashes []uint64
	hosts  []int32
	stats  RingStats
}

type ringPoint struct {
	hash uint64
	host int32
}

// normalized returns Envoy's normalized weights (weight/sum, as float64),
// their minimum and maximum, or an error when the sum overflows uint32.
func normalized(eps []Endpoint) (ws []float64, minW, maxW float64, err error) {
	var sum uint64
	for _, e := range eps {
		sum += weightOf(e)
	}
	if sum > math.MaxUint32 {
		return nil, 0, 0, fmt.Errorf("sum of weights %d exceeds %d", sum, uint64(math.MaxUint32))
	}
	ws = make([]float64, len(eps))
	minW, maxW = 1.0, 0.0
	for i, e := range eps {
		ws[i] = float64(weightOf(e)) * 1.0 / float64(sum)
		minW, maxW = min(minW, ws[i]), max(maxW, ws[i])
	}
	return ws, minW, maxW, nil
}

// checkKeys refuses empty hash keys, which Envoy asserts never happen.
func checkKeys(policy string, eps []Endpoint) error {
	for i, e := range eps {
		if e.Key == "" {
			return fmt.Errorf("lb: %s: endpoint %d has an empty hash key", policy, i)
		}
	}
	return nil
}

// Build builds the ring. It costs O(ring size · log) time and 12 bytes per
// point (up to ~96 MiB at the 8M-point limit).
func (r *RingHash) Build(eps []Endpoint) (Picker, error) {
	if len(eps) == 0 {
		return emptyPicker{}, nil
	}
	if err := checkKeys(RingHashName, eps); err != nil {
		return nil, err
	}
	ws, minW, _, err := normalized(eps)
	if err != nil {
		return nil, fmt.Errorf("lb: %s: %w", RingHashName, err)
	}
	// The least-weighted host gets a whole number of points; the others
	// may not, and the running sums below handle that (as Envoy does).
	scale := math.Min(math.Ceil(minW*float64(r.cfg.MinimumRingSize))/minW, float64(r.cfg.MaximumRingSize))
	size := uint64(math.Ceil(scale))
	points := make([]ringPoint, 0, size)
	st := RingStats{Size: size, MinHashesPerHost: size}
	var buf []byte
	current, target := 0.0, 0.0
	for h, e := range eps {
		buf = append(append(buf[:0], e.Key...), '_')
		prefix := len(buf)
		// float64() forbids fusing into an FMA, which would change
		// rounding on arm64 and break parity with Envoy.
		target += float64(scale * ws[h])
		var i uint64
		for ; current < target; i++ {
			buf = strconv.AppendUint(buf[:prefix], i, 10)
			var hash uint64
			if r.cfg.HashFunction == HashMurmur2 {
				hash = murmur2(buf, stdHashSeed)
			} else {
				hash = xxhash.Sum64(buf)
			}
			points = append(points, ringPoint{hash: hash, host: int32(h)})
			current++
		}
		st.MinHashesPerHost = min(st.MinHashesPerHost, i)
		st.MaxHashesPerHost = max(st.MaxHashesPerHost, i)
	}
	slices.SortFunc(points, func(a, b ringPoint) int {
		if c := cmp.Compare(a.hash, b.hash); c != 0 {
			return c
		}
		return cmp.Compare(a.host, b.host)
	})
	p := &ringPicker{hashes: make([]uint64, len(points)), hosts: make([]int32, len(points)), stats: st}
	for i, pt := range points {
		p.hashes[i], p.hosts[i] = pt.hash, pt.host
	}
	return p, nil
}

// Pick returns the owner of the first point >= hash, wrapping around; this
// is what Envoy's ketama search returns.
func (p *ringPicker) Pick(hash uint64, hasHash bool) int {
	if len(p.hashes) == 0 {
		return -1
	}
	if !hasHash {
		hash = rand.Uint64()
	}
	lo, hi := 0, len(p.hashes)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		if p.hashes[mid] < hash {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo == len(p.hashes) {
		lo = 0
	}
	return int(p.hosts[lo])
}

// RingStats returns the ring's size and per-host point counts.
func (p *ringPicker) RingStats() RingStats { return p.stats }

var (
	_ Policy = (*RingHash)(nil)
	_ Picker = (*ringPicker)(nil)
)
