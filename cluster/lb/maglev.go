package lb

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/cespare/xxhash/v2"
)

// Maglev is Envoy's maglev balancer (the paper's listing 1 with Envoy's
// weighting): hosts, sorted by hash key, take turns filling a prime-sized
// table along their own permutation offset + next·skip, where
// offset = xxHash64(key, seed 0) % size and skip = xxHash64(key, seed 1) %
// (size-1) + 1. A host whose normalized weight is w takes a turn in the
// rounds where round·w has caught up with its target, so heavier hosts fill
// proportionally more slots. A request goes to table[hash % size].
//
// The table depends only on the set of (key, weight) pairs, never on the
// order of the endpoints. Like Envoy, a pick without a hash uses a random
// 64-bit value. Hosts with colliding keys share a permutation; Envoy orders
// them by pointer, sluice by endpoint index, and the first one to reach a
// contested slot owns it.
type Maglev struct{ cfg MaglevConfig }

// NewMaglev validates cfg and returns the policy.
func NewMaglev(cfg MaglevConfig) (*Maglev, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("lb: %s: %w", MaglevName, err)
	}
	return &Maglev{cfg: cfg}, nil
}

// Name returns "maglev".
func (*Maglev) Name() string { return MaglevName }

// Config returns the policy's config.
func (m *Maglev) Config() MaglevConfig { return m.cfg }

// MaglevStats are Envoy's maglev_lb gauges for one built table.
type MaglevStats struct {
	MinEntriesPerHost uint64 // maglev_lb.min_entries_per_host
	MaxEntriesPerHost uint64 // maglev_lb.max_entries_per_host
}

// maglevPicker is a built table of endpoint indexes.
type maglevPicker struct {
	table []int32
	stats MaglevStats
}

// maglevEntry is one host's state while the table is filled.
type maglevEntry struct {
	key                  string
	host                 int32
	offset, skip         uint64
	weight, targetWeight float64
	next, count          uint64
}

// Build fills the table: O(size · log size) expected time, 4 bytes a slot.
func (m *Maglev) Build(eps []Endpoint) (Picker, error) {
	if len(eps) == 0 {
		return emptyPicker{}, nil
	}
	if err := checkKeys(MaglevName, eps); err != nil {
		return nil, err
	}
	if len(eps) == 1 {
		// Envoy's degenerate table: one host owns every slot.
		return &maglevPicker{table: []int32{0}, stats: MaglevStats{1, 1}}, nil
	}
	ws, _, maxW, err := normalized(eps)
	if err != nil {
		return nil, fmt.Errorf("lb: %s: %w", MaglevName, err)
	}
	size := m.cfg.TableSize
	entries := make([]maglevEntry, len(eps))
	for i, e := range eps {
		entries[i] = maglevEntry{key: e.Key, host: int32(i), weight: ws[i]}
	}
	// A stable fill order: the table must not depend on endpoint order.
	slices.SortFunc(entries, func(a, b maglevEntry) int {
		if c := cmp.Compare(a.key, b.key); c != 0 {
			return c
		}
		return cmp.Compare(a.host, b.host)
	})
	seeded := xxhash.NewWithSeed(1)
	for i := range entries {
		e := &entries[i]
		e.offset = xxhash.Sum64String(e.key) % size
		seeded.ResetWithSeed(1)
		_, _ = seeded.WriteString(e.key)
		e.skip = seeded.Sum64()%(size-1) + 1
	}
	table := make([]int32, size)
	for i := range table {
		table[i] = -1
	}
	filled := uint64(0)
	for round := uint32(1); filled < size; round++ {
		for i := 0; i < len(entries) && filled < size; i++ {
			e := &entries[i]
			// A host of weight maxW takes every round; one of maxW/3
			// every third round.
			if float64(round)*e.weight < e.targetWeight {
				continue
			}
			e.targetWeight += maxW
			c := (e.offset + e.skip*e.next) % size
			for table[c] >= 0 {
				e.next++
				c = (e.offset + e.skip*e.next) % size
			}
			table[c] = e.host
			e.next++
			e.count++
			filled++
		}
	}
	st := MaglevStats{MinEntriesPerHost: size}
	for _, e := range entries {
		st.MinEntriesPerHost = min(st.MinEntriesPerHost, e.count)
		st.MaxEntriesPerHost = max(st.MaxEntriesPerHost, e.count)
	}
	return &maglevPicker{table: table, stats: st}, nil
}

// Pick returns table[hash % size].
func (p *maglevPicker) Pick(hash uint64, hasHash bool) int {
	if !hasHash {
		hash = rand.Uint64()
	}
	return int(p.table[hash%uint64(len(p.table))])
}

// MaglevStats returns the per-host slot counts.
func (p *maglevPicker) MaglevStats() MaglevStats { return p.stats }

var (
	_ Policy = (*Maglev)(nil)
	_ Picker = (*maglevPicker)(nil)
)
