package stats

import "testing"

// TestOneStatPerFullName: a full name reached through different scope
// splits is one stat, found by its full name.
func TestOneStatPerFullName(t *testing.T) {
	s := New()
	a := s.Root().Sub("a").Counter("b.c")
	b := s.Root().Sub("a").Sub("b").Counter("c")
	c := s.Root().Counter("a.b.c")
	if a != b || b != c {
		t.Fatal("three handles for a.b.c")
	}
	a.Add(3)
	if v, ok := s.CounterValue("a.b.c"); !ok || v != 3 {
		t.Fatalf("CounterValue = %d %v", v, ok)
	}
	if got := len(s.snapshot()); got != 1 {
		t.Fatalf("%d stats, want 1", got)
	}
	tagged := s.Root().Sub("cluster").Tagged("envoy_cluster_name", "x").Gauge("membership_total")
	if g, ok := s.GaugeValue("cluster.x.membership_total"); !ok || g != 0 || tagged.Name() != "cluster.x.membership_total" {
		t.Fatalf("tagged gauge: %v %v %s", g, ok, tagged.Name())
	}
	if n := s.AddCounters(map[string]uint64{"a.b.c": 2, "nope": 1}); n != 1 || a.Value() != 5 {
		t.Fatalf("AddCounters: %d, value %d", n, a.Value())
	}
}
