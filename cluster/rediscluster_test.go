package cluster

import (
	"fmt"
	"net"
	"testing"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// TestRedisClusterDiscovery reads a real Redis Cluster's slot map from one
// seed: every slot's shard master is the node that owns it, the nodes are
// the cluster's hosts, and a refresh counts update_attempt/update_success.
// A cluster whose only seed refuses counts update_failure and has no map.
func TestRedisClusterDiscovery(t *testing.T) {
	rc := testenv.RedisCluster(t, 3, 0)
	m, st := testManager(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String() // closed: connects are refused
	ln.Close()
	m.Apply([]config.Cluster{
		clusterCfg(t, fmt.Sprintf("{name: rc, type: redis_cluster, cluster_refresh_rate: 1h, endpoints: [%q]}", rc.Addrs()[0])),
		clusterCfg(t, fmt.Sprintf("{name: dead, type: redis_cluster, cluster_refresh_rate: 1h, connect_timeout: 1s, endpoints: [%q]}", dead)),
	})
	c := m.Get("rc")
	slots := c.RedisSlots()
	if slots == nil {
		t.Fatal("no slot map after the first discovery")
	}
	for _, s := range []int{0, 5000, 9000, 16383} {
		sh := slots.Shard(s)
		if sh == nil || sh.Master.Address() != rc.Owner(s).Addr() {
			t.Fatalf("slot %d: shard %+v, want master %s", s, sh, rc.Owner(s).Addr())
		}
		if sh.Master.Cluster() != c {
			t.Fatalf("slot %d: master is not a host of the cluster", s)
		}
	}
	if n := gauge(st, "cluster.rc.membership_total"); n != 3 {
		t.Fatalf("membership_total = %d, want 3", n)
	}
	if a, s := counter(st, "cluster.rc.update_attempt"), counter(st, "cluster.rc.update_success"); a != 1 || s != 1 {
		t.Fatalf("update_attempt = %d, update_success = %d, want 1, 1", a, s)
	}
	c.RefreshRedis()
	eventually(t, "a second discovery", func() bool { return counter(st, "cluster.rc.update_success") == 2 })
	if d := m.Get("dead"); d.RedisSlots() != nil || counter(st, "cluster.dead.update_failure") != 1 || len(d.Hosts()) != 0 {
		t.Fatalf("dead seed: slots %v, update_failure %d, hosts %d", d.RedisSlots() != nil, counter(st, "cluster.dead.update_failure"), len(d.Hosts()))
	}
}

// TestRedisClusterRefreshTriggers: redirect_refresh_threshold redirects, or
// failure_refresh_threshold failed requests, make the cluster read its
// slot map again before cluster_refresh_rate; events within
// redirect_refresh_interval of a triggered refresh are ignored.
func TestRedisClusterRefreshTriggers(t *testing.T) {
	rc := testenv.RedisCluster(t, 3, 0)
	m, st := testManager(t)
	m.Apply([]config.Cluster{clusterCfg(t, fmt.Sprintf(`{name: rc, type: redis_cluster, cluster_refresh_rate: 1h,
  redirect_refresh_threshold: 2, failure_refresh_threshold: 3, redirect_refresh_interval: 1s, endpoints: [%q]}`, rc.Addrs()[0]))})
	c := m.Get("rc")
	attempts := func() uint64 { return counter(st, "cluster.rc.update_attempt") }
	if attempts() != 1 {
		t.Fatalf("update_attempt = %d after start, want 1", attempts())
	}
	c.RedisRedirected()
	c.RedisRedirected()
	eventually(t, "a refresh after 2 redirects", func() bool { return attempts() == 2 })
	for i := 0; i < 5; i++ { // within the interval: ignored
		c.RedisRedirected()
	}
	h := c.Hosts()[0]
	eventually(t, "the interval to pass", func() bool {
		// Each round is 3 failed requests; the first round after the
		// interval triggers one refresh.
		for i := 0; i < 3; i++ {
			h.BeginRequest()
			h.EndRequest(false)
		}
		return attempts() >= 3
	})
	if a := attempts(); a != 3 {
		t.Fatalf("update_attempt = %d, want 3 (start, 2 redirects, 3 failures)", a)
	}
}
