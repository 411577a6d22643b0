package cluster

import (
	"math"
	"math/rand/v2"

	"github.com/sluice-proxy/sluice/cluster/lb"
	"github.com/sluice-proxy/sluice/config"
)

// Priority levels and locality weights, after Envoy's LoadBalancerBase and
// ZoneAwareLoadBalancerBase: each level's health is
// min(100, overprovisioning_factor × healthy/total); levels take load in
// order up to their health, scaled when the sum is below 100; a level is in
// panic (balanced over all its hosts, lb_healthy_panic counted) when the
// cluster is not fully available and its own healthy share is below
// healthy_panic_threshold; when every level is in panic the load follows
// host counts. Within a healthy level, locality_weighted_lb picks a
// locality by locality_weight × min(100, its availability) on a weighted
// round-robin schedule (Envoy's EDF gives the same shares), then a host in
// it with the cluster's policy.

// placement is where discovery put a host: its priority and locality.
type placement struct {
	priority uint32
	locality config.Locality
	weight   uint32 // the locality's load_balancing_weight
}

// level is one priority level of a snapshot.
type level struct {
	pickFrom []*Host // healthy hosts, or every live host in panic
	picker   Picker
	panic    bool
	// locs, when set, are the level's localities with a non-zero
	// effective weight, chosen by locPicker before a host in them.
	locs      []pickSet
	locPicker Picker
}

// pickSet is a host list with its picker.
type pickSet struct {
	hosts  []*Host
	picker Picker
}

// pick chooses a host of the level; nil when it has none.
func (lv *level) pick(hash uint64, hasHash bool) *Host {
	if len(lv.locs) > 0 {
		if i := lv.locPicker.Pick(hash, hasHash); i >= 0 {
			set := &lv.locs[i]
			if j := set.picker.Pick(hash, hasHash); j >= 0 {
				return set.hosts[j]
			}
			return nil
		}
	}
	if len(lv.pickFrom) == 0 {
		return nil
	}
	if i := lv.picker.Pick(hash, hasHash); i >= 0 {
		return lv.pickFrom[i]
	}
	return nil
}

// choose returns the level a pick goes to: by the request's hash when it
// has one (as Envoy's hashing balancers do), else at random, against the
// cumulative per-level load.
func (s *snapshot) choose(hash uint64, hasHash bool) *level {
	if len(s.levels) == 1 {
		return &s.levels[0]
	}
	var x uint32
	if hasHash {
		x = uint32(hash % 100)
	} else {
		x = rand.Uint32N(100)
	}
	for i, cum := range s.load {
		if x < cum {
			return &s.levels[i]
		}
	}
	return &s.levels[0]
}

// levelHosts is one level's hosts while a snapshot is built.
type levelHosts struct {
	live, healthy []*Host
	liveW, healW  uint64
}

// buildLevels splits live hosts by priority and computes each level's
// load and panic state; it returns the levels and cumulative loads.
func (c *Cluster) buildLevels(cfg *config.Cluster, live []*Host) ([]level, []uint32) {
	n := 1
	for _, h := range live {
		n = max(n, int(h.place().priority)+1)
	}
	byLevel := make([]levelHosts, n)
	for _, h := range live {
		lh := &byLevel[h.place().priority]
		lh.live = append(lh.live, h)
		lh.liveW += uint64(h.Weight())
		if h.Healthy() {
			lh.healthy = append(lh.healthy, h)
			lh.healW += uint64(h.Weight())
		}
	}
	of := uint64(cfg.OverprovisioningFactor)
	if of == 0 {
		of = config.DefaultOverprovisioningFactor
	}
	health := make([]uint32, n)
	var sum uint32
	for i, lh := range byLevel {
		total, healthy := uint64(len(lh.live)), uint64(len(lh.healthy))
		if cfg.WeightedPriorityHealth {
			total, healthy = lh.liveW, lh.healW
		}
		if total > 0 {
			health[i] = uint32(min(100, of*healthy/total))
		}
		sum += health[i]
	}
	avail := min(100, sum)
	thr := cfg.HealthyPanicThreshold
	panics := make([]bool, n)
	allPanic := true
	for i, lh := range byLevel {
		if avail < 100 && thr > 0 {
			pct := 0.0
			if len(lh.live) > 0 {
				pct = 100 * float64(len(lh.healthy)) / float64(len(lh.live))
			}
			panics[i] = pct < thr
		}
		allPanic = allPanic && panics[i]
	}
	load := make([]uint32, n)
	switch {
	case allPanic && len(live) > 0:
		// Envoy's total panic: the load follows each level's host count.
		spread(load, func(i int) uint32 { return uint32(100 * len(byLevel[i].live) / len(live)) }, func(i int) bool { return len(byLevel[i].live) > 0 })
	case avail == 0:
		load[0] = 100 // nothing available and no panic: P0 finds no host
	default:
		spread(load, func(i int) uint32 { return health[i] * 100 / avail }, func(i int) bool { return health[i] > 0 })
	}
	levels := make([]level, n)
	var cum uint32
	cums := make([]uint32, n)
	for i, lh := range byLevel {
		lv := &levels[i]
		lv.panic = panics[i]
		lv.pickFrom = lh.healthy
		if lv.panic {
			lv.pickFrom = lh.live
		} else if cfg.LocalityWeightedLB {
			c.buildLocalities(cfg, lv, lh, of)
		}
		lv.picker = c.newPicker(cfg, lv.pickFrom)
		cum += load[i]
		cums[i] = cum
	}
	return levels, cums
}

// spread gives each level its share, capped by what is left, and the
// rounding remainder to the first level that can take load (Envoy's
// distributeLoad).
func spread(load []uint32, share func(int) uint32, usable func(int) bool) {
	left := uint32(100)
	first := -1
	for i := range load {
		load[i] = min(left, share(i))
		left -= load[i]
		if first < 0 && usable(i) {
			first = i
		}
	}
	if first < 0 {
		first = 0
	}
	load[first] += left
}

// buildLocalities groups a healthy level's hosts by locality and sets the
// locality schedule from the effective weights; a level whose localities
// all weigh 0 keeps picking over its healthy hosts, as Envoy falls back.
func (c *Cluster) buildLocalities(cfg *config.Cluster, lv *level, lh levelHosts, of uint64) {
	type group struct {
		live, healthy []*Host
		weight        uint64
	}
	var order []config.Locality
	groups := map[config.Locality]*group{}
	for _, h := range lh.live {
		p := h.place()
		g := groups[p.locality]
		if g == nil {
			g = &group{weight: uint64(p.weight)}
			groups[p.locality] = g
			order = append(order, p.locality)
		}
		g.live = append(g.live, h)
		if h.Healthy() {
			g.healthy = append(g.healthy, h)
		}
	}
	var sets []pickSet
	var effs []uint64
	var keys []string
	var maxW uint64
	for _, loc := range order {
		g := groups[loc]
		eff := g.weight * min(100, of*uint64(len(g.healthy))/uint64(len(g.live)))
		if eff == 0 {
			continue
		}
		sets = append(sets, pickSet{hosts: g.healthy, picker: c.newPicker(cfg, g.healthy)})
		effs = append(effs, eff)
		keys = append(keys, loc.String())
		maxW = max(maxW, eff)
	}
	if len(sets) == 0 {
		return
	}
	// Locality weights sum to at most 2^32 (Envoy's rule) but times 100
	// they may not fit a host weight: scale down, keeping every one >= 1.
	shift := 0
	for maxW>>shift > math.MaxUint32 {
		shift++
	}
	eps := make([]lb.Endpoint, len(effs))
	for i, e := range effs {
		eps[i] = lb.Endpoint{Key: keys[i], Weight: uint32(max(1, e>>shift))}
	}
	rr, _ := lb.NewRoundRobin(lb.RoundRobinConfig{})
	p, err := rr.Build(eps)
	if err != nil {
		c.log.Error("building the locality schedule", "err", err)
		return
	}
	lv.locs, lv.locPicker = sets, p
}

// place returns the host's priority and locality.
func (h *Host) place() placement {
	if p := h.placement.Load(); p != nil {
		return *p
	}
	return placement{}
}

// Priority returns the host's priority level (0 is the highest).
func (h *Host) Priority() uint32 { return h.place().priority }

// Locality returns where discovery says the host runs.
func (h *Host) Locality() config.Locality { return h.place().locality }

// setPlacement records the endpoint's priority and locality.
func (h *Host) setPlacement(e config.Endpoint) {
	p := placement{priority: e.Priority, locality: e.Locality, weight: e.LocalityWeight}
	if cur := h.placement.Load(); cur != nil && *cur == p {
		return
	}
	if p == (placement{}) && h.placement.Load() == nil {
		return
	}
	h.placement.Store(&p)
}
