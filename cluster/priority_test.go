package cluster

import (
	"fmt"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/sluice-proxy/sluice/config"
)

// priorityCluster builds a cluster of 100 hosts at P0 and 100 at P1 (or
// two localities when loc is set) and marks the first unhealthy0 hosts of
// P0 (locality X) unhealthy.
func priorityCluster(t *testing.T, extra string, unhealthy0 int, loc bool) *Cluster {
	t.Helper()
	m, _ := testManager(t)
	var eps []string
	for i := range 200 {
		pr, l := i/100, ""
		if loc {
			// X (weight 1) at 10.0.0.x, Y (weight 2) at 10.0.1.x, both P0.
			l = fmt.Sprintf(", locality: {zone: %c}, locality_weight: %d", "XY"[pr], pr+1)
			pr = 0
		}
		eps = append(eps, fmt.Sprintf(`{address: "10.0.%d.%d:1", priority: %d%s}`, i/100, i%100, pr, l))
	}
	cfg := clusterCfg(t, `{name: c, endpoints: [`+strings.Join(eps, ", ")+`]`+extra+`}`)
	c := m.newCluster(&cfg)
	c.cfg.Store(&cfg)
	c.setHosts(cfg.Endpoints)
	for _, h := range c.Hosts()[:unhealthy0] {
		h.SetFlag(FailedActiveHC, true)
	}
	return c
}

// TestPriorityLoad reproduces Envoy's priority-level table
// (arch_overview/upstream/load_balancing/priority): P0's healthy share
// against the load P0 and P1 get, with the default overprovisioning factor.
func TestPriorityLoad(t *testing.T) {
	tests := []struct {
		healthy0   int // percent of P0's hosts healthy
		extra      string
		want0      uint32
		wantPanic0 bool
	}{
		{100, "", 100, false},
		{72, "", 100, false},
		{71, "", 99, false},
		{50, "", 70, false},
		{25, "", 35, false},
		{0, "", 0, false},
		{50, ", overprovisioning_factor: 200", 100, false},
		{50, ", overprovisioning_factor: 100", 50, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d%s", tt.healthy0, tt.extra), func(t *testing.T) {
			c := priorityCluster(t, tt.extra, 100-tt.healthy0, false)
			s := c.snap.Load()
			if len(s.levels) != 2 || s.load[0] != tt.want0 || s.load[1] != 100 {
				t.Fatalf("levels %d, cumulative load %v, want P0 %d", len(s.levels), s.load, tt.want0)
			}
			if s.levels[0].panic != tt.wantPanic0 {
				t.Fatalf("P0 panic %v", s.levels[0].panic)
			}
			picks := map[uint32]int{}
			for range 2000 {
				picks[c.Pick(0, false).Priority()]++
			}
			if d := picks[0] - 20*int(tt.want0); d < -150 || d > 150 {
				t.Fatalf("P0 got %d of 2000 picks, want about %d", picks[0], 20*tt.want0)
			}
		})
	}
}

// TestPriorityPanic: with P1 absent, P0 below the panic threshold balances
// over all its hosts and counts lb_healthy_panic; with both levels mostly
// down (total panic) the load follows host counts.
func TestPriorityPanic(t *testing.T) {
	m, st := testManager(t)
	cfg := clusterCfg(t, `{name: c, endpoints: ["10.0.0.1:1", "10.0.0.2:1", "10.0.0.3:1", {address: "10.0.1.1:1", priority: 1}]}`)
	c := m.newCluster(&cfg)
	c.cfg.Store(&cfg)
	c.setHosts(cfg.Endpoints)
	hs := c.Hosts()
	hs[0].SetFlag(FailedActiveHC, true)
	hs[1].SetFlag(FailedActiveHC, true)
	hs[3].SetFlag(FailedActiveHC, true)
	// P0 health 140*1/3 = 46, P1 0: availability 46 < 100; P0 33% < 50 and
	// P1 0% < 50 are both in panic, so the load follows host counts 3:1.
	s := c.snap.Load()
	if !s.levels[0].panic || !s.levels[1].panic || s.load[0] != 75 {
		t.Fatalf("panic %v %v, load %v", s.levels[0].panic, s.levels[1].panic, s.load)
	}
	seen := map[string]bool{}
	for range 400 {
		seen[c.Pick(0, false).Address()] = true
	}
	if len(seen) != 4 {
		t.Fatalf("total panic picked %v, want every host", seen)
	}
	if n := counter(st, "cluster.c.lb_healthy_panic"); n != 400 {
		t.Fatalf("lb_healthy_panic = %d, want 400", n)
	}
	// P1 healthy again: availability 46+100 → 100, no panic; P0 takes 46.
	hs[3].SetFlag(FailedActiveHC, false)
	s = c.snap.Load()
	if s.levels[0].panic || s.levels[1].panic || s.load[0] != 46 {
		t.Fatalf("panic %v %v, load %v", s.levels[0].panic, s.levels[1].panic, s.load)
	}
	for range 200 {
		if h := c.Pick(0, false); !h.Healthy() {
			t.Fatalf("picked unhealthy %s outside panic", h.Address())
		}
	}
}

// TestLocalityWeights reproduces Envoy's locality-weight table
// (arch_overview/upstream/load_balancing/locality_weight): X weighs 1, Y 2,
// Y fully healthy.
func TestLocalityWeights(t *testing.T) {
	tests := []struct {
		healthyX int
		wantX    int // percent
	}{{100, 33}, {70, 33}, {69, 32}, {50, 26}, {25, 15}, {0, 0}}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.healthyX), func(t *testing.T) {
			c := priorityCluster(t, ", locality_weighted_lb: true", 100-tt.healthyX, true)
			picks := map[string]int{}
			const n = 30000
			for range n {
				h := c.Pick(0, false)
				if !h.Healthy() {
					t.Fatalf("picked unhealthy %s", h.Address())
				}
				picks[h.Locality().Zone]++
			}
			if got := 100 * picks["X"] / n; got < tt.wantX-1 || got > tt.wantX+1 {
				t.Fatalf("X got %d%% (%v), want %d%%", got, picks, tt.wantX)
			}
		})
	}
}

// TestLocalityWeightErrors: a locality with two weights, locality weights
// with a hashing policy and a priority beyond Envoy's limit are refused
// with their paths.
func TestLocalityWeightErrors(t *testing.T) {
	tests := []struct{ name, input, wantErr string }{
		{"two weights", `endpoints: [{address: "10.0.0.1:1", locality: {zone: a}, locality_weight: 1}, {address: "10.0.0.2:1", locality: {zone: a}, locality_weight: 2}]`,
			"cluster.endpoints[1].locality_weight: 2, but another endpoint of locality /a/ at priority 0 gives 1"},
		{"hashing", `endpoints: ["10.0.0.1:1"], lb_policy: maglev, locality_weighted_lb: true`, "cluster.locality_weighted_lb: only with lb_policy round_robin, least_request or random, not maglev"},
		{"priority", `endpoints: [{address: "10.0.0.1:1", priority: 129}]`, "cluster.endpoints[0].priority: must be 0..128, got 129"},
		{"factor", `endpoints: ["10.0.0.1:1"], overprovisioning_factor: 0`, "cluster.overprovisioning_factor: must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := decodeErr(t, `{name: c, `+tt.input+`}`)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

// decodeErr decodes one cluster's YAML as the loader does and returns its
// config errors.
func decodeErr(t *testing.T, src string) error {
	t.Helper()
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(src), &n); err != nil {
		t.Fatal(err)
	}
	var c config.Cluster
	errs := &config.Errors{}
	(&config.Decoder{Errs: errs}).Decode("cluster", &n, &c)
	return errs.Err()
}

// FuzzPriorityLoad: any mix of levels, localities, weights, health and
// thresholds gives cumulative loads ending at 100, never decreasing, and
// a pick whenever some level has a host it may use.
func FuzzPriorityLoad(f *testing.F) {
	f.Add([]byte{0, 1, 0, 1, 1, 0, 2, 1}, uint8(50), uint8(140), true)
	f.Add([]byte{3, 0, 3, 0}, uint8(0), uint8(100), false)
	f.Fuzz(func(t *testing.T, hosts []byte, thr, factor uint8, loc bool) {
		if len(hosts) > 64 || factor == 0 {
			return
		}
		m, _ := testManager(t)
		var eps []string
		for i := 0; i+1 < len(hosts); i += 2 {
			eps = append(eps, fmt.Sprintf(`{address: "10.1.%d.%d:1", priority: %d, locality: {zone: z%d}, locality_weight: %d}`,
				i/200, i%200, hosts[i]%4, hosts[i+1]%3, (hosts[i]%4+hosts[i+1]%3)%3))
		}
		if len(eps) == 0 {
			return
		}
		cfg := clusterCfg(t, fmt.Sprintf(`{name: c, healthy_panic_threshold: %d, overprovisioning_factor: %d, locality_weighted_lb: %v, endpoints: [%s]}`,
			thr%101, factor, loc, strings.Join(eps, ", ")))
		c := m.newCluster(&cfg)
		c.cfg.Store(&cfg)
		c.setHosts(cfg.Endpoints)
		usable := false
		for i, h := range c.Hosts() {
			if hosts[2*i+1]&4 != 0 {
				h.SetFlag(FailedActiveHC, true)
			}
		}
		s := c.snap.Load()
		var prev uint32
		for i, cum := range s.load {
			if cum < prev {
				t.Fatalf("cumulative load decreases: %v", s.load)
			}
			if cum > prev && (len(s.levels[i].pickFrom) > 0 || len(s.levels[i].locs) > 0) {
				usable = true
			}
			prev = cum
		}
		if prev != 100 {
			t.Fatalf("loads end at %d: %v", prev, s.load)
		}
		if usable {
			got := false
			for range 200 {
				got = got || c.Pick(0, false) != nil
			}
			if !got {
				t.Fatalf("no pick in 200 though a loaded level has hosts: %v", s.load)
			}
		}
	})
}
