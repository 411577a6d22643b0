package cluster

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/sluice-proxy/sluice/config"
)

// TestLBPolicies: each lb_policy balances the cluster's healthy hosts.
func TestLBPolicies(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  func(picks map[string]int, sameForHash bool) bool
	}{
		{"round_robin even", `lb_policy: round_robin`, func(p map[string]int, _ bool) bool { return p["127.0.0.1:1"] == 50 && p["127.0.0.2:1"] == 50 }},
		{"random both", `lb_policy: random`, func(p map[string]int, _ bool) bool { return p["127.0.0.1:1"] > 10 && p["127.0.0.2:1"] > 10 }},
		// P2C: the busy host wins only when both choices land on it (~25%).
		{"least_request avoids busy", `lb_policy: least_request`, func(p map[string]int, _ bool) bool { return p["127.0.0.1:1"] < 45 }},
		{"ring_hash sticks", `lb_policy: ring_hash, ring_hash_lb_config: {minimum_ring_size: 64}`, func(_ map[string]int, same bool) bool { return same }},
		{"maglev sticks", `lb_policy: maglev, maglev_lb_config: {table_size: 251}`, func(_ map[string]int, same bool) bool { return same }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _ := testManager(t)
			body := tt.input
			cfg := clusterCfg(t, `{name: c, endpoints: ["127.0.0.1:1", "127.0.0.2:1"], `+body+`}`)
			c := m.newCluster(&cfg)
			c.setHosts(cfg.Endpoints)
			c.Hosts()[0].RqActive.Store(100) // busy, for least_request
			picks := map[string]int{}
			for range 100 {
				picks[c.Pick(0, false).Address()]++
			}
			first := c.Pick(42, true)
			same := true
			for range 20 {
				same = same && c.Pick(42, true) == first
			}
			if !tt.want(picks, same) {
				t.Fatalf("picks %v, same-for-hash %v", picks, same)
			}
		})
	}
}

func TestLBConfigErrors(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		wantErr string
	}{
		{"unknown policy", `lb_policy: fastest`, `cluster.lb_policy: unknown lb_policy "fastest" (known: least_request, maglev, random, ring_hash, round_robin)`},
		{"block for another policy", `maglev_lb_config: {table_size: 251}`, "cluster.maglev_lb_config: only for lb_policy maglev, not round_robin"},
		{"maglev not prime", `lb_policy: maglev, maglev_lb_config: {table_size: 100}`, "cluster.maglev_lb_config.table_size: must be a prime number"},
		{"panic threshold", `healthy_panic_threshold: 120`, "cluster.healthy_panic_threshold: must be 0..100"},
		{"health check kind", `health_checks: [{timeout: 1s}]`, "cluster.health_checks[0]: give exactly one of"},
		{"bad priority", `circuit_breakers: {thresholds: [{priority: LOW}]}`, "cluster.circuit_breakers.thresholds[0].priority: must be DEFAULT or HIGH"},
		{"bad percent", `outlier_detection: {max_ejection_percent: 101}`, "cluster.outlier_detection.max_ejection_percent: is a percentage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n yaml.Node
			body := tt.input
			if err := yaml.Unmarshal([]byte(`{name: c, endpoints: ["127.0.0.1:1"], `+body+`}`), &n); err != nil {
				t.Fatal(err)
			}
			var c config.Cluster
			errs := &config.Errors{}
			(&config.Decoder{Errs: errs}).Decode("cluster", &n, &c)
			if err := errs.Err(); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}
