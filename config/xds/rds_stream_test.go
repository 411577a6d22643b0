package xds_test

import (
	"net/http"
	"testing"
	"time"

	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/sluice-proxy/sluice/internal/poll"
)

// apiRdsListener is rdsListener with the routes over a per-type RDS
// stream (rds.config_source.api_config_source) instead of ADS.
func apiRdsListener(name, addr, routeName string, delta bool) *listenerv3.Listener {
	l := rdsListener(name, addr, routeName)
	f := l.FilterChains[0].Filters[0]
	var h hcmv3.HttpConnectionManager
	if err := f.GetTypedConfig().UnmarshalTo(&h); err != nil {
		panic(err)
	}
	h.GetRds().ConfigSource = apiSource(delta)
	a, err := anypb.New(&h)
	if err != nil {
		panic(err)
	}
	f.ConfigType = &listenerv3.Filter_TypedConfig{TypedConfig: a}
	return l
}

// TestRDSPerType: without ADS, a listener delivered by a per-type LDS
// stream whose http_connection_manager takes its routes from an RDS
// api_config_source gets them over RouteDiscoveryService (State of the
// World and Delta): it warms until they arrive, then follows a change,
// a kept-alive connection included.
func TestRDSPerType(t *testing.T) {
	for _, delta := range []bool{false, true} {
		t.Run(map[bool]string{false: "sotw", true: "delta"}[delta], func(t *testing.T) {
			cp := startControlPlane(t)
			a, b := namedBackend(t, "a"), namedBackend(t, "b")
			addr := freeAddr(t)
			url := "http://" + addr + "/x"
			clusters := []types.Resource{staticCluster("a", a), staticCluster("b", b)}
			lis := []types.Resource{apiRdsListener("web", addr, "r1", delta)}
			cp.set("1", map[resource.Type][]types.Resource{resource.ClusterType: clusters, resource.ListenerType: lis})
			s := startSluice(t, bootstrap(cp, false, delta))
			s.waitCounter("listener_manager.lds.update_success", 1)
			if _, err := get(http.DefaultClient, url); err == nil {
				t.Fatal("the listener served before its route configuration arrived")
			}
			cp.set("2", map[resource.Type][]types.Resource{resource.ClusterType: clusters, resource.ListenerType: lis,
				resource.RouteType: {routeTo("r1", "a")}})
			kept := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}, Timeout: 5 * time.Second}
			poll.Eventually(t, 20*time.Second, func() bool { v, _ := get(kept, url); return v == "a" }, "routes to a")
			cp.set("3", map[resource.Type][]types.Resource{resource.ClusterType: clusters, resource.ListenerType: lis,
				resource.RouteType: {routeTo("r1", "b")}})
			poll.Eventually(t, 20*time.Second, func() bool { v, _ := get(kept, url); return v == "b" }, "routes to b")
			s.waitCounter("http.web.rds.r1.update_success", 2)
		})
	}
}
