package envoy

import (
	"fmt"
	"testing"
	"time"
)

// TestTranslateRedisClusterRefresh: RedisClusterConfig's refresh triggers
// land in sluice's cluster; an unset redirect_refresh_threshold stays unset
// (Envoy's default, 5, applies) and an explicit 0 is kept (off).
func TestTranslateRedisClusterRefresh(t *testing.T) {
	const tmpl = `
static_resources:
  clusters:
  - name: rc
    connect_timeout: 1s
    lb_policy: CLUSTER_PROVIDED
    cluster_type:
      name: envoy.clusters.redis
      typed_config:
        "@type": type.googleapis.com/envoy.extensions.clusters.redis.v3.RedisClusterConfig
        cluster_refresh_rate: 10s
%s
    load_assignment:
      cluster_name: rc
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 7000}}}}]}]
`
	cfg, _ := parse(t, fmt.Sprintf(tmpl, `        redirect_refresh_interval: 2s
        redirect_refresh_threshold: 0
        failure_refresh_threshold: 3`))
	c := cfg.Cluster("rc")
	if c.Type != "redis_cluster" || c.ClusterRefreshRate.D() != 10*time.Second || c.RedirectRefreshInterval.D() != 2*time.Second ||
		c.RedirectRefreshThreshold == nil || *c.RedirectRefreshThreshold != 0 || c.FailureRefreshThreshold != 3 {
		t.Fatalf("cluster = %+v", c)
	}
	cfg, _ = parse(t, fmt.Sprintf(tmpl, ""))
	if c := cfg.Cluster("rc"); c.RedirectRefreshThreshold != nil || c.FailureRefreshThreshold != 0 {
		t.Fatalf("defaults: %+v", c)
	}
}
