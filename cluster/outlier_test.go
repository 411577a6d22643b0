package cluster

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/config"
)

// outlierCluster builds a cluster of n static hosts with outlier detection
// od (YAML), without starting background work; now is the detector's clock.
func outlierCluster(t *testing.T, n int, od string) (*Cluster, *detector, *time.Time) {
	t.Helper()
	m, _ := testManager(t)
	eps := ""
	for i := range n {
		eps += fmt.Sprintf("127.0.0.%d:1,", i+1)
	}
	cfg := clusterCfg(t, fmt.Sprintf(`{name: c, endpoints: [%s], outlier_detection: %s}`, eps, od))
	c := m.newCluster(&cfg)
	c.setHosts(cfg.Endpoints)
	now := time.Unix(1000, 0)
	d := &detector{c: c, cfg: cfg.OutlierDetection, now: func() time.Time { return now }}
	c.outlier.Store(d)
	return c, d, &now
}

func TestOutlierConsecutive(t *testing.T) {
	F, S, L := ExtOriginRequestFailed, ExtOriginRequestSuccess, ConnectFailed
	tests := []struct {
		name  string
		od    string
		input []Result
		want  bool // ejected
	}{
		{"5xx reaches threshold", `{consecutive_5xx: 3}`, []Result{F, F, F}, true},
		{"below threshold", `{consecutive_5xx: 3}`, []Result{F, F}, false},
		{"success resets", `{consecutive_5xx: 3}`, []Result{F, F, S, F, F}, false},
		{"connect failures count as 5xx", `{consecutive_5xx: 3}`, []Result{L, L, L}, true},
		{"final connect success resets", `{consecutive_5xx: 3}`, []Result{L, L, ConnectSuccessFinal, L, L}, false},
		{"pool connect success does not reset", `{consecutive_5xx: 3}`, []Result{L, L, ConnectSuccess, L}, true},
		{"not enforced", `{consecutive_5xx: 2, enforcing_consecutive_5xx: 0}`, []Result{F, F}, false},
		{"split: local origin on its own", `{split_external_local_origin_errors: true, consecutive_local_origin_failure: 2, consecutive_5xx: 9}`, []Result{L, L}, true},
		{"split: upstream errors do not count as local", `{split_external_local_origin_errors: true, consecutive_local_origin_failure: 2, consecutive_5xx: 9}`, []Result{L, F, F}, false},
		{"gateway enforced", `{consecutive_5xx: 9, consecutive_gateway_failure: 2, enforcing_consecutive_gateway_failure: 100}`, []Result{L, LocalOriginTimeout}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _, _ := outlierCluster(t, 1, tt.od)
			h := c.Hosts()[0]
			for _, r := range tt.input {
				h.Report(r)
			}
			if got := h.Flags()&FailedOutlierCheck != 0; got != tt.want {
				t.Fatalf("ejected = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestOutlierMaxEjectionPercent: with 3 hosts and 10%, the first ejection
// goes through and the second overflows (Envoy's strict "below the maximum").
func TestOutlierMaxEjectionPercent(t *testing.T) {
	c, _, _ := outlierCluster(t, 3, `{consecutive_5xx: 1, max_ejection_percent: 10}`)
	hs := c.Hosts()
	hs[0].Report(ExtOriginRequestFailed)
	hs[1].Report(ExtOriginRequestFailed)
	if !(hs[0].Flags() == FailedOutlierCheck && hs[1].Healthy()) {
		t.Fatalf("flags %s %s", hs[0].Flags(), hs[1].Flags())
	}
	st := c.stats.outlier
	if st.active.Value() != 1 || st.ovflw.Value() != 1 || st.enforcedTotal.Value() != 1 || st.total.Value() != 2 {
		t.Fatalf("active %d overflow %d enforced %d total %d", st.active.Value(), st.ovflw.Value(), st.enforcedTotal.Value(), st.total.Value())
	}
	if p := c.Pick(0, false); p == hs[0] {
		t.Fatal("ejected host picked")
	}
}

// TestOutlierEjectionTime: base × times ejected, capped, returned on a sweep.
func TestOutlierEjectionTime(t *testing.T) {
	c, d, now := outlierCluster(t, 1, `{consecutive_5xx: 1, max_ejection_percent: 100, base_ejection_time: 10s, max_ejection_time: 25s, interval: 1s}`)
	h := c.Hosts()[0]
	steps := []struct {
		advance time.Duration
		want    bool // still ejected after the sweep
	}{
		{9 * time.Second, true}, {time.Second, false}, // first: 10s
	}
	h.Report(ExtOriginRequestFailed)
	for i, s := range steps {
		*now = now.Add(s.advance)
		d.sweep()
		if got := !h.Healthy(); got != s.want {
			t.Fatalf("step %d: ejected = %v, want %v", i, got, s.want)
		}
	}
	h.Report(ExtOriginRequestFailed) // second ejection: multiplier went 1→0 on no sweep yet, now 2
	if h.od.numEjections != 2 {
		t.Fatalf("numEjections = %d, want 2", h.od.numEjections)
	}
	if got := d.ejectionTime(2); got != 20*time.Second {
		t.Fatalf("ejection time x2 = %v", got)
	}
	if got := d.ejectionTime(9); got != 25*time.Second {
		t.Fatalf("ejection time capped = %v", got)
	}
	*now = now.Add(19 * time.Second)
	d.sweep()
	if h.Healthy() {
		t.Fatal("returned before 2 × base")
	}
	*now = now.Add(time.Second)
	d.sweep()
	if !h.Healthy() || c.stats.outlier.active.Value() != 0 {
		t.Fatalf("not returned after 2 × base: %s", h.Flags())
	}
	d.sweep() // a healthy interval lowers the multiplier
	if h.od.numEjections != 1 {
		t.Fatalf("multiplier after a healthy sweep = %d, want 1", h.od.numEjections)
	}
}

// TestOutlierConnectFailuresEject uses the real Connect path: a dead
// endpoint's refused connects eject it; the live one keeps serving.
func TestOutlierConnectFailuresEject(t *testing.T) {
	live := newServer(t, ping)
	m, st := testManager(t)
	m.Dialer = refusingDialer("127.0.0.1:9")
	m.Apply([]config.Cluster{clusterCfg(t, fmt.Sprintf(`{name: c, endpoints: [%q, "127.0.0.1:9"], outlier_detection: {consecutive_5xx: 3, consecutive_gateway_failure: 3, max_ejection_percent: 50}}`, live.addr))})
	c := m.Get("c")
	fails := 0
	for i := 0; i < 20; i++ {
		up, err := c.Connect(context.Background(), 0, false)
		if err != nil {
			fails++
			continue
		}
		up.Close()
	}
	if fails != 3 {
		t.Errorf("failed connects = %d, want 3 (then ejected)", fails)
	}
	if f := c.Hosts()[1].Flags(); f != FailedOutlierCheck {
		t.Fatalf("dead host flags %s", f)
	}
	if counter(st, "cluster.c.outlier_detection.ejections_enforced_consecutive_5xx") != 1 ||
		counter(st, "cluster.c.outlier_detection.ejections_detected_consecutive_gateway_failure") != 1 ||
		counter(st, "cluster.c.outlier_detection.ejections_enforced_consecutive_gateway_failure") != 0 ||
		gauge(st, "cluster.c.outlier_detection.ejections_active") != 1 {
		t.Fatal("outlier stats wrong")
	}
}

func TestOutlierOffClearsEjections(t *testing.T) {
	m, _ := testManager(t)
	m.Dialer = refusingDialer("127.0.0.1:9")
	cfg := clusterCfg(t, `{name: c, endpoints: ["127.0.0.1:9"], outlier_detection: {consecutive_5xx: 1, max_ejection_percent: 100}}`)
	m.Apply([]config.Cluster{cfg})
	c := m.Get("c")
	if _, err := c.Connect(context.Background(), 0, false); err == nil || errors.Is(err, ErrNoHealthyHost) {
		t.Fatalf("connect err %v", err)
	}
	if c.Hosts()[0].Healthy() {
		t.Fatal("not ejected")
	}
	cfg.OutlierDetection = nil
	m.Apply([]config.Cluster{cfg})
	if !c.Hosts()[0].Healthy() {
		t.Fatalf("still %s after outlier detection was removed", c.Hosts()[0].Flags())
	}
}
