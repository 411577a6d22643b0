package overload

import (
	"fmt"
	"runtime/metrics"
)

// Monitor measures one resource's pressure: use divided by the limit, where
// 1 is the limit reached (it may go above).
type Monitor interface {
	Pressure() (float64, error)
}

// heapMetrics are the runtime/metrics samples the fixed_heap monitor reads.
// Envoy's fixed_heap counts what tcmalloc holds minus its free and unmapped
// pages; the Go equivalent is all memory the runtime mapped, minus heap
// pages that are free or already returned to the OS.
var heapMetrics = []string{
	"/memory/classes/total:bytes",
	"/memory/classes/heap/free:bytes",
	"/memory/classes/heap/released:bytes",
}

// fixedHeap is envoy.resource_monitors.fixed_heap.
type fixedHeap struct {
	max     uint64
	samples []metrics.Sample
}

func newFixedHeap(max uint64) *fixedHeap {
	s := make([]metrics.Sample, len(heapMetrics))
	for i, n := range heapMetrics {
		s[i].Name = n
	}
	return &fixedHeap{max: max, samples: s}
}

// HeapInUse returns the bytes the fixed_heap monitor counts.
func HeapInUse() (uint64, error) { return newFixedHeap(1).inUse() }

func (h *fixedHeap) inUse() (uint64, error) {
	metrics.Read(h.samples)
	var v [3]uint64
	for i, s := range h.samples {
		if s.Value.Kind() != metrics.KindUint64 {
			return 0, fmt.Errorf("overload: runtime metric %s is not available", s.Name)
		}
		v[i] = s.Value.Uint64()
	}
	return v[0] - v[1] - v[2], nil
}

// Pressure is the memory in use over max_heap_size_bytes.
func (h *fixedHeap) Pressure() (float64, error) {
	n, err := h.inUse()
	if err != nil {
		return 0, err
	}
	return float64(n) / float64(h.max), nil
}
