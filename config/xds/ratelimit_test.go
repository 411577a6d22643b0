package xds_test

import (
	"strings"
	"testing"
	"time"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"

	"github.com/sluice-proxy/sluice/internal/poll"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// TestControlPlaneRateLimit: with rate_limit_settings of 2 tokens filled
// at 5 a second on the ADS source, the requests of a start-up (CDS and
// LDS subscriptions, the EDS subscription and every ACK) outrun the
// bucket: some wait (control_plane.rate_limit_enforced counts them) and
// sluice still converges on the snapshot, then on the next one.
func TestControlPlaneRateLimit(t *testing.T) {
	for _, delta := range []bool{false, true} {
		t.Run(map[bool]string{false: "sotw", true: "delta"}[delta], func(t *testing.T) {
			a, b := testenv.Redis(t), testenv.Redis(t)
			cp := startControlPlane(t)
			l1 := "127.0.0.1:" + itoa(testenv.FreePort(t))
			snap := func(addr string) map[resource.Type][]types.Resource {
				return map[resource.Type][]types.Resource{
					resource.ClusterType:  {edsCluster("redis", adsSource())},
					resource.EndpointType: {cla("redis", addr)},
					resource.ListenerType: {tcpListener("l1", l1, "redis")},
				}
			}
			cp.set("1", snap(a.Addr()))
			bs := strings.Replace(bootstrap(cp, true, delta), "transport_api_version: V3, grpc_services",
				"transport_api_version: V3, rate_limit_settings: {max_tokens: 2, fill_rate: 5}, grpc_services", 1)
			s := startSluice(t, bs)
			poll.Eventually(t, 20*time.Second, func() bool { return s.srv.ListenerAddr("l1") != "" }, "listener l1 never started")
			if p, err := backendPort(l1); err != nil || p != itoa(a.Port()) {
				t.Fatalf("through l1: %v %v, want a", p, err)
			}
			cp.set("2", snap(b.Addr()))
			poll.Eventually(t, 20*time.Second, func() bool {
				p, err := backendPort(l1)
				return err == nil && p == itoa(b.Port())
			}, "the second snapshot never applied")
			if n := s.counter("control_plane.rate_limit_enforced"); n == 0 {
				t.Fatal("control_plane.rate_limit_enforced = 0: no request waited for a token")
			}
			poll.Eventually(t, 20*time.Second, func() bool { return s.gauge("control_plane.pending_requests") == 0 }, "requests still pending")
		})
	}
}

// TestControlPlaneRateLimitOff: without rate_limit_settings nothing waits.
func TestControlPlaneRateLimitOff(t *testing.T) {
	a := testenv.Redis(t)
	cp := startControlPlane(t)
	l1 := "127.0.0.1:" + itoa(testenv.FreePort(t))
	cp.set("1", map[resource.Type][]types.Resource{
		resource.ClusterType:  {edsCluster("redis", adsSource())},
		resource.EndpointType: {cla("redis", a.Addr())},
		resource.ListenerType: {tcpListener("l1", l1, "redis")},
	})
	s := startSluice(t, bootstrap(cp, true, false))
	poll.Eventually(t, 20*time.Second, func() bool { return s.srv.ListenerAddr("l1") != "" }, "listener l1 never started")
	if n := s.counter("control_plane.rate_limit_enforced"); n != 0 {
		t.Fatalf("rate_limit_enforced = %d without rate_limit_settings", n)
	}
}
