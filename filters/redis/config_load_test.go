package redis

import (
	"strings"
	"testing"

	"github.com/sluice-proxy/sluice/config"
)

// TestLoadRefusesNonHashingBalancer: a sharded route over a cluster whose
// balancer does not hash keys is refused when the config loads (it used to
// be found on the first command).
func TestLoadRefusesNonHashingBalancer(t *testing.T) {
	yaml := func(policy string, endpoints string) string {
		return `
listeners:
  - name: r
    address: 127.0.0.1:0
    filters:
      - redis_proxy:
          stat_prefix: r
          settings: {op_timeout: 1s}
          prefix_routes: {catch_all_route: {cluster: shards}}
clusters:
  - name: shards
    lb_policy: ` + policy + `
    endpoints: [` + endpoints + `]
`
	}
	for _, tc := range []struct {
		name, policy, endpoints, wantErr string
	}{
		{"round_robin over two", "round_robin", `"127.0.0.1:1", "127.0.0.1:2"`,
			`listeners[0].filters[0].redis_proxy.prefix_routes.catch_all_route.cluster: cluster "shards": lb_policy "round_robin" does not hash keys`},
		{"round_robin over one", "round_robin", `"127.0.0.1:1"`, ""},
		{"ring_hash over two", "ring_hash", `"127.0.0.1:1", "127.0.0.1:2"`, ""},
		{"maglev over two", "maglev", `"127.0.0.1:1", "127.0.0.1:2"`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Parse("test.yaml", []byte(yaml(tc.policy, tc.endpoints)))
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
		})
	}
}
