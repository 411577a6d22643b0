package xds_test

import (
	"testing"
	"time"

	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/sluice-proxy/sluice/internal/poll"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// TestWarming: a listener starts only once its EDS cluster has endpoints;
// an EDS cluster whose endpoints never come goes into use (empty) when its
// initial_fetch_timeout passes, counted in cluster.<name>.init_fetch_timeout.
func TestWarming(t *testing.T) {
	r := testenv.Redis(t)
	cp := startControlPlane(t)
	lw := "127.0.0.1:" + itoa(testenv.FreePort(t))
	lt := "127.0.0.1:" + itoa(testenv.FreePort(t))
	never := adsSource()
	never.InitialFetchTimeout = durationpb.New(300 * time.Millisecond)
	wait := adsSource()
	wait.InitialFetchTimeout = durationpb.New(0) // waits forever
	res := map[resource.Type][]types.Resource{
		resource.ClusterType:  {edsCluster("w", wait), edsCluster("t", never)},
		resource.ListenerType: {tcpListener("lw", lw, "w"), tcpListener("lt", lt, "t")},
	}
	cp.set("1", res)
	s := startSluice(t, bootstrap(cp, true, false))

	// t's fetch times out: its listener starts, with nowhere to send.
	s.waitCounter("cluster.t.init_fetch_timeout", 1)
	poll.Eventually(t, 20*time.Second, func() bool { return s.srv.ListenerAddr("lt") != "" }, "lt never started")
	if got := len(s.srv.Clusters.Get("t").Hosts()); got != 0 {
		t.Errorf("cluster t has %d hosts, want none", got)
	}
	// w waits for its endpoints; so does lw.
	if s.srv.ListenerAddr("lw") != "" || s.srv.Clusters.Get("w") != nil {
		t.Fatalf("lw (%q) or its cluster w (%v) started before w's endpoints came", s.srv.ListenerAddr("lw"), s.srv.Clusters.Get("w") != nil)
	}
	res[resource.EndpointType] = []types.Resource{cla("w", r.Addr())}
	cp.set("2", res)
	poll.Eventually(t, 20*time.Second, func() bool {
		p, err := backendPort(lw)
		return err == nil && p == itoa(r.Port())
	}, "lw never served once w had its endpoints")
}

// TestNodeOverride: --service-node and --service-cluster (Options.NodeID,
// NodeCluster) replace the bootstrap's node: the control plane serves the
// snapshot of the overriding id.
func TestNodeOverride(t *testing.T) {
	r := testenv.Redis(t)
	cp := startControlPlane(t)
	l := "127.0.0.1:" + itoa(testenv.FreePort(t))
	cp.setFor("edge-7", "1", map[resource.Type][]types.Resource{
		resource.ClusterType:  {staticCluster("redis", r.Addr())},
		resource.ListenerType: {tcpListener("edge", l, "redis")},
	})
	s := startSluiceNode(t, bootstrap(cp, true, true), "edge-7", "edges")
	if n := s.xds.Node(); n.GetId() != "edge-7" || n.GetCluster() != "edges" {
		t.Fatalf("node %v", n)
	}
	poll.Eventually(t, 20*time.Second, func() bool {
		p, err := backendPort(l)
		return err == nil && p == itoa(r.Port())
	}, "the overriding node's snapshot never served")
}
