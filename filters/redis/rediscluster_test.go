package redis

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/cluster"
	"github.com/sluice-proxy/sluice/codec/redis"
	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/internal/poll"
	"github.com/sluice-proxy/sluice/internal/testenv"
	"github.com/sluice-proxy/sluice/stats"
)

// newClusterProxy builds a redis_proxy over a redis_cluster cluster "rc"
// seeded with seeds, refreshing every refresh.
func newClusterProxy(t *testing.T, seeds []string, refresh time.Duration, mutate func(*config.Cluster, *Config)) (*Proxy, *stats.Store, *cluster.Manager) {
	store := stats.New()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	mgr := cluster.NewManager(store.Root(), log)
	var cc config.Cluster
	cc.SetDefaults()
	cc.Name, cc.Type, cc.ConnectTimeout, cc.ClusterRefreshRate = "rc", "redis_cluster", config.Duration(2*time.Second), config.Duration(refresh)
	for _, s := range seeds {
		cc.Endpoints = append(cc.Endpoints, config.Endpoint{Address: s, Weight: 1})
	}
	cfg := NewConfig()
	cfg.StatPrefix = "rc"
	cfg.Settings.OpTimeout = config.Duration(2 * time.Second)
	cfg.Settings.EnableRedirection = true
	cfg.PrefixRoutes.CatchAllRoute = &Route{Cluster: "rc"}
	if mutate != nil {
		mutate(&cc, cfg)
	}
	mgr.Apply([]config.Cluster{cc})
	t.Cleanup(mgr.Close)
	p, err := New(cfg, &filters.Env{Stats: store.Root(), Clusters: mgr, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p, store, mgr
}

// getMany sends SET and GET for n keys (spread over every slot range) and
// checks the replies.
func getMany(t *testing.T, p *Proxy, n int) {
	t.Helper()
	var in, want strings.Builder
	for i := 0; i < n; i++ {
		k := fmt.Sprintf("key:%d", i)
		in.Write(redis.AppendCommandString(nil, "SET", k, "v"))
		want.WriteString("+OK\r\n")
	}
	in.Write(redis.AppendCommandString(nil, "QUIT"))
	want.WriteString("+OK\r\n")
	if got := roundTrip(t, p, in.String()); got != want.String() {
		t.Fatalf("got %q\nwant %q", got, want.String())
	}
}

// TestRedisClusterNodesAreHosts: a redis_cluster cluster discovers its nodes
// itself; every master and replica is a host (membership_total), commands
// to them are dialed through the cluster (upstream_cx_total), and a node
// that leaves the Redis Cluster leaves membership_total and has its pools
// closed.
func TestRedisClusterNodesAreHosts(t *testing.T) {
	rc := testenv.RedisCluster(t, 3, 1)
	p, store, mgr := newClusterProxy(t, rc.Addrs()[:1], 200*time.Millisecond, func(_ *config.Cluster, c *Config) {
		c.Settings.ReadPolicy = "replica"
	})
	gauge := func(name string) int64 { v, _ := store.GaugeValue(name); return v }
	if !poll.Until(10*time.Second, func() bool { return gauge("cluster.rc.membership_total") == 6 }) {
		t.Fatalf("membership_total = %d, want 6 (3 masters, 3 replicas)", gauge("cluster.rc.membership_total"))
	}
	getMany(t, p, 60)
	// Reads go to replicas (read_policy replica): one pool per master for
	// the writes, one per replica for the reads.
	var in strings.Builder
	for i := 0; i < 60; i++ {
		in.Write(redis.AppendCommandString(nil, "GET", fmt.Sprintf("key:%d", i)))
	}
	in.Write(redis.AppendCommandString(nil, "QUIT"))
	if got := roundTrip(t, p, in.String()); strings.Count(got, "$1\r\nv\r\n") != 60 {
		t.Fatalf("GETs through replicas: %q", got)
	}
	if n, _ := store.CounterValue("cluster.rc.upstream_cx_total"); n < 6 {
		t.Fatalf("upstream_cx_total = %d, want at least 6 (a connection per node)", n)
	}
	if got := p.poolCount(); got != 6 {
		t.Fatalf("pools = %d, want 6", got)
	}
	// A replica leaves: killed, then forgotten by every other node.
	gone := rc.Replicas(rc.Masters()[0])[0]
	gone.Kill()
	for _, n := range rc.Nodes() {
		if n != gone {
			if _, err := n.CLI("CLUSTER", "FORGET", gone.ID()); err != nil {
				t.Fatalf("CLUSTER FORGET on %s: %v", n.Addr(), err)
			}
		}
	}
	hostGone := func() bool {
		for _, h := range mgr.Get("rc").Hosts() {
			if h.Address() == gone.Addr() {
				return false
			}
		}
		return true
	}
	if !poll.Until(10*time.Second, func() bool {
		return gauge("cluster.rc.membership_total") == 5 && hostGone() && p.poolCount() == 5
	}) {
		t.Fatalf("after the replica left: membership_total = %d, pools = %d, host gone %v",
			gauge("cluster.rc.membership_total"), p.poolCount(), hostGone())
	}
	getMany(t, p, 20) // the cluster still serves
}

// TestRedisClusterNodeHealthCheck: the cluster's redis health check probes
// discovered nodes too: a replica that stops answering (CLIENT PAUSE) is
// marked unhealthy and leaves membership_healthy.
func TestRedisClusterNodeHealthCheck(t *testing.T) {
	rc := testenv.RedisCluster(t, 3, 1)
	_, store, mgr := newClusterProxy(t, rc.Addrs()[:1], 200*time.Millisecond, func(cc *config.Cluster, _ *Config) {
		cc.HealthChecks = []config.HealthCheck{{
			Timeout: config.Duration(300 * time.Millisecond), Interval: config.Duration(200 * time.Millisecond),
			UnhealthyThreshold: 1, HealthyThreshold: 1, RedisHealthCheck: &config.RedisHealthCheck{},
		}}
	})
	gauge := func(name string) int64 { v, _ := store.GaugeValue(name); return v }
	if !poll.Until(10*time.Second, func() bool { return gauge("cluster.rc.membership_healthy") == 6 }) {
		for _, h := range mgr.Get("rc").Hosts() {
			t.Logf("host %s flags %v", h.Address(), h.Flags())
		}
		t.Fatalf("membership_healthy = %d, want 6", gauge("cluster.rc.membership_healthy"))
	}
	sick := rc.Replicas(rc.Masters()[1])[0]
	if _, err := sick.CLI("CLIENT", "PAUSE", "20000", "ALL"); err != nil {
		t.Fatal(err)
	}
	flagged := func() bool {
		for _, h := range mgr.Get("rc").Hosts() {
			if h.Address() == sick.Addr() {
				return h.Flags()&cluster.FailedActiveHC != 0
			}
		}
		return false
	}
	if !poll.Until(10*time.Second, func() bool { return flagged() && gauge("cluster.rc.membership_healthy") == 5 }) {
		t.Fatalf("paused replica: flagged %v, membership_healthy = %d, want 5", flagged(), gauge("cluster.rc.membership_healthy"))
	}
	if n := gauge("cluster.rc.membership_total"); n != 6 {
		t.Fatalf("membership_total = %d, want 6 (an unhealthy node stays a host)", n)
	}
}
