package stats

import (
	"math"
	"sync/atomic"
)

// Counter is a monotonically increasing count. Safe for concurrent use.
type Counter struct {
	meta
	v    atomic.Uint64
	used atomic.Bool
}

// Inc adds one.
func (c *Counter) Inc() { c.Add(1) }

// Add adds n.
func (c *Counter) Add(n uint64) {
	c.v.Add(n)
	if !c.used.Load() {
		c.used.Store(true)
	}
}

// Value returns the current count.
func (c *Counter) Value() uint64 { return c.v.Load() }

// Name returns the stat's full name.
func (c *Counter) Name() string { return c.name }

// Gauge is a value that goes up and down. Safe for concurrent use.
type Gauge struct {
	meta
	v    atomic.Int64
	used atomic.Bool
}

// Set sets the value.
func (g *Gauge) Set(v int64) { g.v.Store(v); g.mark() }

// Add adds d (which may be negative).
func (g *Gauge) Add(d int64) { g.v.Add(d); g.mark() }

// Inc adds one.
func (g *Gauge) Inc() { g.Add(1) }

// Dec subtracts one.
func (g *Gauge) Dec() { g.Add(-1) }

// Value returns the current value.
func (g *Gauge) Value() int64 { return g.v.Load() }

// Name returns the stat's full name.
func (g *Gauge) Name() string { return g.name }

func (g *Gauge) mark() {
	if !g.used.Load() {
		g.used.Store(true)
	}
}

// DefaultBuckets are Envoy's default histogram bucket bounds.
var DefaultBuckets = []float64{0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000}

// Histogram counts recorded values into Envoy's default buckets. Record is
// lock-free: one atomic add for the bucket, one for the sum, one for the count.
type Histogram struct {
	meta
	buckets []atomic.Uint64 // len(DefaultBuckets)+1; the last is +Inf
	count   atomic.Uint64
	sumBits atomic.Uint64 // float64 bits, updated with CAS
}

func newHistogram(m meta) *Histogram {
	return &Histogram{meta: m, buckets: make([]atomic.Uint64, len(DefaultBuckets)+1)}
}

// Record adds one observation of v.
func (h *Histogram) Record(v float64) {
	i := 0
	for i < len(DefaultBuckets) && v > DefaultBuckets[i] {
		i++
	}
	h.buckets[i].Add(1)
	h.count.Add(1)
	for {
		old := h.sumBits.Load()
		if h.sumBits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			return
		}
	}
}

// Name returns the stat's full name.
func (h *Histogram) Name() string { return h.name }

// HistogramData is a point-in-time copy of a histogram: per-bucket (not
// cumulative) counts aligned with DefaultBuckets plus a final +Inf bucket.
type HistogramData struct {
	Counts []uint64
	Count  uint64
	Sum    float64
}

// Snapshot copies the histogram's state.
func (h *Histogram) Snapshot() HistogramData {
	d := HistogramData{Counts: make([]uint64, len(h.buckets))}
	for i := range h.buckets {
		d.Counts[i] = h.buckets[i].Load()
		d.Count += d.Counts[i]
	}
	d.Sum = math.Float64frombits(h.sumBits.Load())
	return d
}

// Quantile estimates the q-th quantile (0..1) by linear interpolation within
// the bucket that holds it; NaN when the histogram is empty.
func (d HistogramData) Quantile(q float64) float64 {
	if d.Count == 0 {
		return math.NaN()
	}
	rank := q * float64(d.Count)
	var cum float64
	for i, c := range d.Counts {
		if c == 0 {
			continue
		}
		if cum+float64(c) >= rank {
			lo := 0.0
			if i > 0 {
				lo = DefaultBuckets[i-1]
			}
			if i == len(DefaultBuckets) {
				return lo
			}
			hi := DefaultBuckets[i]
			return lo + (hi-lo)*((rank-cum)/float64(c))
		}
		cum += float64(c)
	}
	return DefaultBuckets[len(DefaultBuckets)-1]
}
