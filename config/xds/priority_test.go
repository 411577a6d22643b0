package xds_test

import (
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/sluice-proxy/sluice/internal/poll"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// TestEDSPriorities: an EDS assignment with two priority levels of two
// real redis-servers each, TCP health checks. All traffic goes to P0
// while it is healthy; with one P0 host killed (P0 health 140×1/2 = 70) P0
// keeps about 70% and P1 takes the rest (Envoy's spill-over); with both
// killed everything goes to P1. Counted per backend by CONFIG GET port over
// new connections through tcp_proxy.
func TestEDSPriorities(t *testing.T) {
	rs := []*testenv.RedisServer{testenv.Redis(t), testenv.Redis(t), testenv.Redis(t), testenv.Redis(t)}
	cp := startControlPlane(t)
	l1 := "127.0.0.1:" + itoa(testenv.FreePort(t))
	cl := edsCluster("redis", adsSource())
	cl.HealthChecks = []*corev3.HealthCheck{{
		Timeout: durationpb.New(200 * time.Millisecond), Interval: durationpb.New(50 * time.Millisecond),
		UnhealthyThreshold: wrapperspb.UInt32(1), HealthyThreshold: wrapperspb.UInt32(1),
		HealthChecker: &corev3.HealthCheck_TcpHealthCheck_{TcpHealthCheck: &corev3.HealthCheck_TcpHealthCheck{}}}}
	assignment := cla("redis", rs[0].Addr(), rs[1].Addr())
	assignment.Endpoints = append(assignment.Endpoints, cla("redis", rs[2].Addr(), rs[3].Addr()).Endpoints[0])
	assignment.Endpoints[1].Priority = 1
	cp.set("1", map[resource.Type][]types.Resource{
		resource.ClusterType:  {cl},
		resource.EndpointType: {assignment},
		resource.ListenerType: {tcpListener("l1", l1, "redis")},
	})
	s := startSluice(t, bootstrap(cp, true, false))
	poll.Eventually(t, 20*time.Second, func() bool { return s.srv.ListenerAddr("l1") != "" && s.gauge("cluster.redis.membership_healthy") == 4 },
		"listener l1 and four healthy hosts")

	share := func(n int) map[int]int { // priority → connections
		t.Helper()
		prio := map[string]int{itoa(rs[0].Port()): 0, itoa(rs[1].Port()): 0, itoa(rs[2].Port()): 1, itoa(rs[3].Port()): 1}
		got := map[int]int{}
		for range n {
			p, err := backendPort(l1)
			if err != nil {
				t.Fatalf("connection through l1: %v", err)
			}
			got[prio[p]]++
		}
		return got
	}
	if got := share(200); got[0] != 200 {
		t.Fatalf("all healthy: %v, want all 200 on P0", got)
	}

	rs[0].Kill()
	poll.Eventually(t, 20*time.Second, func() bool { return s.gauge("cluster.redis.membership_healthy") == 3 }, "killed host still healthy")
	// 600 connections at p = 0.7: the standard deviation is under 12, so
	// 360..480 is about ±5 of them.
	if got := share(600); got[0] < 360 || got[0] > 480 {
		t.Fatalf("one P0 host down: %v, want about 420 (70%%) on P0", got)
	}

	rs[1].Kill()
	poll.Eventually(t, 20*time.Second, func() bool { return s.gauge("cluster.redis.membership_healthy") == 2 }, "second killed host still healthy")
	if got := share(200); got[1] != 200 {
		t.Fatalf("P0 down: %v, want all 200 on P1", got)
	}
	if n := s.counter("cluster.redis.lb_healthy_panic"); n != 0 {
		t.Errorf("lb_healthy_panic = %d: P1 is fully healthy, nothing is in panic", n)
	}

	// The control plane reweights localities within P1: locality weights
	// 1 (rs[2]) and 3 (rs[3]) with locality_weighted_lb_config.
	cl2 := edsCluster("redis", adsSource())
	cl2.HealthChecks = cl.HealthChecks
	cl2.CommonLbConfig = &clusterv3.Cluster_CommonLbConfig{
		LocalityConfigSpecifier: &clusterv3.Cluster_CommonLbConfig_LocalityWeightedLbConfig_{}}
	a2 := &endpointv3.ClusterLoadAssignment{ClusterName: "redis", Endpoints: []*endpointv3.LocalityLbEndpoints{
		cla("redis", rs[2].Addr()).Endpoints[0], cla("redis", rs[3].Addr()).Endpoints[0]}}
	a2.Endpoints[0].Locality, a2.Endpoints[0].LoadBalancingWeight = &corev3.Locality{Zone: "x"}, wrapperspb.UInt32(1)
	a2.Endpoints[1].Locality, a2.Endpoints[1].LoadBalancingWeight = &corev3.Locality{Zone: "y"}, wrapperspb.UInt32(3)
	cp.set("2", map[resource.Type][]types.Resource{
		resource.ClusterType:  {cl2},
		resource.EndpointType: {a2},
		resource.ListenerType: {tcpListener("l1", l1, "redis")},
	})
	poll.Eventually(t, 20*time.Second, func() bool {
		return s.gauge("cluster.redis.membership_total") == 2 && s.gauge("cluster.redis.membership_healthy") == 2
	},
		"the reweighted assignment")
	got := map[string]int{}
	for range 400 {
		p, err := backendPort(l1)
		if err != nil {
			t.Fatalf("connection through l1: %v", err)
		}
		got[p]++
	}
	// A weighted round-robin schedule over localities: 1:3, exactly but for
	// where it starts.
	if x := got[itoa(rs[2].Port())]; x < 95 || x > 105 {
		t.Fatalf("locality weights 1:3: %v, want about 100 on zone x", got)
	}
}
