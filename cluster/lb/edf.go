package lb

import (
	"math/rand/v2"
	"sync"
)

// edfItem is one host's next deadline; order breaks ties first-in first.
type edfItem struct {
	deadline float64
	order    uint64
	host     int32
}

func (a edfItem) before(b edfItem) bool {
	return a.deadline < b.deadline || (a.deadline == b.deadline && a.order < b.order)
}

// edfShard is one earliest-deadline-first scheduler (Envoy's EdfScheduler):
// a binary min-heap with every host in it exactly once. It is padded so that
// shards locked by different goroutines do not share a cache line.
type edfShard struct {
	mu    sync.Mutex
	now   float64
	order uint64
	heap  []edfItem
	_     [64]byte
}

// init puts every host in at deadline 1/weight, then advances a random
// number of picks so shards (and snapshots) do not start in lockstep, as
// Envoy's createWithPicks does.
func (s *edfShard) init(p *edfPicker) {
	s.heap = make([]edfItem, 0, len(p.weights))
	for i := range p.weights {
		s.heap = append(s.heap, edfItem{deadline: 1 / p.effective(i), order: s.order, host: int32(i)})
		s.order++
	}
	for i := len(s.heap)/2 - 1; i >= 0; i-- {
		s.down(i)
	}
	for range rand.IntN(len(p.weights)) {
		s.pickAndAdd(p)
	}
}

// pickAndAdd pops the earliest deadline and puts that host back at
// now + 1/effective weight, its weight read at this pick.
func (s *edfShard) pickAndAdd(p *edfPicker) int {
	top := s.heap[0]
	s.now = top.deadline
	host := int(top.host)
	s.heap[0] = edfItem{deadline: s.now + 1/p.effective(host), order: s.order, host: top.host}
	s.order++
	s.down(0)
	return host
}

func (s *edfShard) down(i int) {
	h := s.heap
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && h[r].before(h[l]) {
			m = r
		}
		if !h[m].before(h[i]) {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}
