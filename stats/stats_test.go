package stats

import (
	"math"
	"strings"
	"sync"
	"testing"
)

func TestSameNameSameHandle(t *testing.T) {
	s := New()
	a := s.Root().Sub("cluster").Tagged("envoy_cluster_name", "pg").Counter("upstream_cx_total")
	b := s.Root().Sub("cluster").Tagged("envoy_cluster_name", "pg").Counter("upstream_cx_total")
	if a != b {
		t.Fatal("two handles for one name")
	}
	if a.Name() != "cluster.pg.upstream_cx_total" || a.extracted != "cluster.upstream_cx_total" {
		t.Fatalf("name %q extracted %q", a.Name(), a.extracted)
	}
}

func TestKindMismatchPanics(t *testing.T) {
	s := New()
	s.Root().Counter("x")
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	s.Root().Gauge("x")
}

func TestConcurrentUpdates(t *testing.T) {
	s := New()
	c := s.Root().Counter("c")
	h := s.Root().Histogram("h")
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 1000; j++ {
				c.Inc()
				h.Record(1)
			}
		}()
	}
	wg.Wait()
	if c.Value() != 8000 {
		t.Fatalf("counter %d", c.Value())
	}
	d := h.Snapshot()
	if d.Count != 8000 || d.Sum != 8000 {
		t.Fatalf("histogram count %d sum %v", d.Count, d.Sum)
	}
}

func TestQuantile(t *testing.T) {
	s := New()
	h := s.Root().Histogram("h")
	if !math.IsNaN(h.Snapshot().Quantile(0.5)) {
		t.Fatal("empty histogram quantile is not NaN")
	}
	for i := 0; i < 100; i++ {
		h.Record(3) // bucket (1,5]
	}
	if q := h.Snapshot().Quantile(0.5); q < 1 || q > 5 {
		t.Fatalf("p50 %v outside its bucket (1,5]", q)
	}
}

func TestPrometheusName(t *testing.T) {
	for in, want := range map[string]string{
		"cluster.upstream_cx_total":    "envoy_cluster_upstream_cx_total",
		"redis.command.get.latency":    "envoy_redis_command_get_latency",
		"listener.downstream-cx.total": "envoy_listener_downstream_cx_total",
	} {
		if got := PrometheusName(in); got != want {
			t.Errorf("%s → %s, want %s", in, got, want)
		}
	}
}

func TestTextUsedOnly(t *testing.T) {
	s := New()
	s.Root().Counter("a").Inc()
	s.Root().Counter("b")
	var b strings.Builder
	s.WriteText(&b, Filter{UsedOnly: true})
	if b.String() != "a: 1\n" {
		t.Fatalf("%q", b.String())
	}
}

func BenchmarkCounterInc(b *testing.B) {
	c := New().Root().Counter("c")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.Inc()
		}
	})
}

func BenchmarkHistogramRecord(b *testing.B) {
	h := New().Root().Histogram("h")
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		h.Record(float64(i % 1000))
	}
}

// TestHistogramBucketsText reproduces Envoy's own admin test
// (HandlerStatsPlainTextHistogramBucketsCumulative): one value of 300.
func TestHistogramBucketsText(t *testing.T) {
	s := New()
	s.Root().Histogram("h1").Record(300)
	var b strings.Builder
	s.WriteText(&b, Filter{Buckets: "cumulative"})
	want := "h1: B0.5(0,0) B1(0,0) B5(0,0) B10(0,0) B25(0,0) B50(0,0) B100(0,0) B250(0,0) " +
		"B500(1,1) B1000(1,1) B2500(1,1) B5000(1,1) B10000(1,1) B30000(1,1) B60000(1,1) " +
		"B300000(1,1) B600000(1,1) B1.8e+06(1,1) B3.6e+06(1,1)\n"
	if b.String() != want {
		t.Fatalf("cumulative:\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	s.WriteText(&b, Filter{Buckets: "disjoint"})
	if !strings.Contains(b.String(), " B250(0,0) B500(1,1) B1000(0,0) ") {
		t.Fatalf("disjoint: %s", b.String())
	}
}

func TestResetCounters(t *testing.T) {
	s := New()
	c := s.Root().Counter("c")
	c.Add(5)
	g := s.Root().Gauge("g")
	g.Set(3)
	s.ResetCounters()
	if c.Value() != 0 || g.Value() != 3 {
		t.Fatalf("counter %d gauge %d after reset", c.Value(), g.Value())
	}
}
