package xds_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	routerv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/sluice-proxy/sluice/internal/poll"
)

// rdsListener is an http_connection_manager listener whose routes come
// from ADS under routeName.
func rdsListener(name, addr, routeName string) *listenerv3.Listener {
	router, _ := anypb.New(&routerv3.Router{})
	h, err := anypb.New(&hcmv3.HttpConnectionManager{StatPrefix: name,
		RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{Rds: &hcmv3.Rds{
			ConfigSource: adsSource(), RouteConfigName: routeName}},
		HttpFilters: []*hcmv3.HttpFilter{{Name: "envoy.filters.http.router",
			ConfigType: &hcmv3.HttpFilter_TypedConfig{TypedConfig: router}}}})
	if err != nil {
		panic(err)
	}
	return &listenerv3.Listener{Name: name, Address: sockAddr(addr),
		FilterChains: []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{{
			Name: "envoy.filters.network.http_connection_manager", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: h}}}}}}
}

// routeTo is a route configuration sending every request to cluster.
func routeTo(name, cluster string) *routev3.RouteConfiguration {
	return &routev3.RouteConfiguration{Name: name, VirtualHosts: []*routev3.VirtualHost{{
		Name: "all", Domains: []string{"*"}, Routes: []*routev3.Route{{
			Match:  &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
			Action: &routev3.Route_Route{Route: &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: cluster}}}}}}}}
}

// namedBackend is a real HTTP server answering its name.
func namedBackend(t *testing.T, name string) string {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, name) }))
	t.Cleanup(s.Close)
	return s.Listener.Addr().String()
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func get(c *http.Client, url string) (string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	return string(b), err
}

// TestRDS: a listener whose routes come by RDS over ADS warms until they
// arrive, follows a route change under live HTTP traffic without a failed
// request, and a bad route configuration is NACKed naming the
// RouteConfiguration and the field while the previous routes serve.
func TestRDS(t *testing.T) {
	for _, delta := range []bool{false, true} {
		t.Run(map[bool]string{false: "sotw", true: "delta"}[delta], func(t *testing.T) { testRDS(t, delta) })
	}
}

func testRDS(t *testing.T, delta bool) {
	cp := startControlPlane(t)
	a, b := namedBackend(t, "a"), namedBackend(t, "b")
	addr := freeAddr(t)
	url := "http://" + addr + "/x"
	clusters := []types.Resource{staticCluster("a", a), staticCluster("b", b)}
	lis := []types.Resource{rdsListener("web", addr, "r1")}
	cp.set("1", map[resource.Type][]types.Resource{resource.ClusterType: clusters, resource.ListenerType: lis})
	s := startSluice(t, bootstrap(cp, true, delta))
	s.waitCounter("listener_manager.lds.update_success", 1)
	// Warming: no route configuration yet, so the listener does not serve.
	if _, err := get(http.DefaultClient, url); err == nil {
		t.Fatal("the listener served before its route configuration arrived")
	}

	cp.set("2", map[resource.Type][]types.Resource{resource.ClusterType: clusters, resource.ListenerType: lis,
		resource.RouteType: {routeTo("r1", "a")}})
	client := &http.Client{Timeout: 5 * time.Second}
	poll.Eventually(t, 20*time.Second, func() bool { v, _ := get(client, url); return v == "a" }, "routes to a")

	// Live traffic: keep-alive clients and new connections, every request
	// must succeed while the route moves to b.
	var failed, done atomic.Int64
	var firstErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func(keepAlive bool) {
			defer wg.Done()
			tr := &http.Transport{DisableKeepAlives: !keepAlive}
			defer tr.CloseIdleConnections()
			c := &http.Client{Transport: tr, Timeout: 5 * time.Second}
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := get(c, url); err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
				done.Add(1)
			}
		}(i%2 == 0)
	}
	// One kept-alive connection opened before the change, counted by the
	// connection it dials: its next request must follow the new routes
	// (Envoy's RDS: an existing connection routes with the new table).
	var dials atomic.Int64
	keptTr := &http.Transport{MaxIdleConnsPerHost: 1, MaxConnsPerHost: 1,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}}
	defer keptTr.CloseIdleConnections()
	kept := &http.Client{Transport: keptTr, Timeout: 5 * time.Second}
	if v, err := get(kept, url); v != "a" {
		t.Fatalf("kept-alive client before the change: %q %v", v, err)
	}
	cp.set("3", map[resource.Type][]types.Resource{resource.ClusterType: clusters, resource.ListenerType: lis,
		resource.RouteType: {routeTo("r1", "b")}})
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	poll.Eventually(t, 20*time.Second, func() bool { v, _ := get(fresh, url); return v == "b" }, "routes to b")
	if v, err := get(kept, url); v != "b" || dials.Load() != 1 {
		t.Fatalf("kept-alive connection after the route change: %q %v over %d connections; want b over the same one", v, err, dials.Load())
	}

	// A bad route configuration: refused naming it and the field.
	bad := routeTo("r1", "a")
	bad.VirtualHosts[0].Routes[0].Match.PathSpecifier = &routev3.RouteMatch_SafeRegex{
		SafeRegex: &matcherv3.RegexMatcher{Regex: "(["}}
	cp.set("4", map[resource.Type][]types.Resource{resource.ClusterType: clusters, resource.ListenerType: lis,
		resource.RouteType: {bad}})
	poll.Eventually(t, 20*time.Second, func() bool {
		for _, m := range cp.nacked() {
			if strings.Contains(m, `RouteConfiguration "r1": virtual_hosts[0].routes[0].match.safe_regex`) {
				return true
			}
		}
		return false
	}, "NACK naming the route configuration's field; have %v", func() any { return joinLines(cp.nacked()) })
	s.waitCounter("http.web.rds.r1.update_rejected", 1) // Envoy's RDS stats
	base := done.Load()
	poll.Eventually(t, 20*time.Second, func() bool { return done.Load() > base+20 }, "traffic goes on")
	close(stop)
	wg.Wait()
	if v, err := get(fresh, url); v != "b" {
		t.Fatalf("after the NACK: %q, %v; want the previous routes (b)", v, err)
	}
	if n := failed.Load(); n != 0 {
		t.Fatalf("%d of %d requests failed during the route change; first: %v", n, done.Load(), firstErr.Load())
	}
	t.Logf("%d requests, none failed", done.Load())
	dump, err := s.xds.ConfigDump("dynamic_route_configs", "", false)
	if err != nil {
		t.Fatal(err)
	}
	// protojson varies its whitespace on purpose: compare without it.
	if d := strings.Join(strings.Fields(string(dump)), ""); !strings.Contains(d, `"name":"r1"`) || !strings.Contains(d, `"cluster":"b"`) || !strings.Contains(d, `"version_info"`) {
		t.Fatalf("config_dump of the route configurations:\n%s", d)
	}
}

// rdsFileListener is rdsListener with its routes in a path_config_source file.
func rdsFileListener(name, addr, routeName, file string) *listenerv3.Listener {
	l := rdsListener(name, addr, routeName)
	h := new(hcmv3.HttpConnectionManager)
	if err := l.FilterChains[0].Filters[0].GetTypedConfig().UnmarshalTo(h); err != nil {
		panic(err)
	}
	h.GetRds().ConfigSource = &corev3.ConfigSource{ResourceApiVersion: corev3.ApiVersion_V3,
		ConfigSourceSpecifier: &corev3.ConfigSource_PathConfigSource{PathConfigSource: &corev3.PathConfigSource{Path: file}}}
	a, err := anypb.New(h)
	if err != nil {
		panic(err)
	}
	l.FilterChains[0].Filters[0].ConfigType = &listenerv3.Filter_TypedConfig{TypedConfig: a}
	return l
}

// rdsFile is a DiscoveryResponse file of one route configuration to cluster.
func rdsFile(version, name, cluster string) string {
	return fmt.Sprintf(`{"version_info": %q, "resources": [{"@type": "type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
 "name": %q, "virtual_hosts": [{"name": "all", "domains": ["*"], "routes": [{"match": {"prefix": "/"}, "route": {"cluster": %q}}]}]}]}`,
		version, name, cluster)
}

// TestRDSFile: an LDS listener's route configuration from a
// path_config_source file: the listener waits for the file, follows its
// atomic replacement, and keeps the previous routes when a bad one comes.
func TestRDSFile(t *testing.T) {
	cp := startControlPlane(t)
	a, b := namedBackend(t, "a"), namedBackend(t, "b")
	addr := freeAddr(t)
	url := "http://" + addr + "/x"
	file := filepath.Join(t.TempDir(), "rds.json")
	cp.set("1", map[resource.Type][]types.Resource{
		resource.ClusterType:  {staticCluster("a", a), staticCluster("b", b)},
		resource.ListenerType: {rdsFileListener("web", addr, "r1", file)}})
	s := startSluice(t, bootstrap(cp, true, false))
	s.waitCounter("listener_manager.lds.update_success", 1)
	if _, err := get(http.DefaultClient, url); err == nil {
		t.Fatal("the listener served before its route file existed")
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	rename(t, file, rdsFile("1", "r1", "a"))
	poll.Eventually(t, 20*time.Second, func() bool { v, _ := get(client, url); return v == "a" }, "routes to a")
	rename(t, file, rdsFile("2", "r1", "b"))
	poll.Eventually(t, 20*time.Second, func() bool { v, _ := get(client, url); return v == "b" }, "routes to b")
	s.waitCounter("http.web.rds.r1.update_success", 2)
	rename(t, file, strings.Replace(rdsFile("3", "r1", "a"), `"prefix": "/"`, `"safe_regex": {"regex": "(["}`, 1))
	s.waitCounter("http.web.rds.r1.update_rejected", 1)
	if v, err := get(client, url); v != "b" {
		t.Fatalf("after a bad route file: %q, %v; want the previous routes (b)", v, err)
	}
}

// TestRDSWithoutADS: a listener asking ADS for its routes from a bootstrap
// without ads_config is NACKed with the reason, not left warming forever.
func TestRDSWithoutADS(t *testing.T) {
	cp := startControlPlane(t)
	cp.set("1", map[resource.Type][]types.Resource{resource.ListenerType: {rdsListener("web", freeAddr(t), "r1")}})
	s := startSluice(t, bootstrap(cp, false, false))
	s.waitCounter("listener_manager.lds.update_rejected", 1)
	poll.Eventually(t, 20*time.Second, func() bool {
		for _, m := range cp.nacked() {
			if strings.Contains(m, `Listener "web": its rds or sds_config names ads, and the bootstrap has no dynamic_resources.ads_config`) {
				return true
			}
		}
		return false
	}, "NACK with the reason; have %v", func() any { return joinLines(cp.nacked()) })
}
