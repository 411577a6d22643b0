package xds_test

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	clusterservice "github.com/envoyproxy/go-control-plane/envoy/service/cluster/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	endpointservice "github.com/envoyproxy/go-control-plane/envoy/service/endpoint/v3"
	listenerservice "github.com/envoyproxy/go-control-plane/envoy/service/listener/v3"
	routeservice "github.com/envoyproxy/go-control-plane/envoy/service/route/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

const nodeID = "sluice-test"

// controlPlane is go-control-plane's xDS server over a snapshot cache, in
// process, on a fixed loopback address so that it can stop and come back.
type controlPlane struct {
	t     *testing.T
	cache cachev3.SnapshotCache
	addr  string

	mu      sync.Mutex
	srv     *grpc.Server
	nacks   []string // error_detail messages received
	version string   // the snapshot version last set
	opts    []grpc.ServerOption
	peers   []string // client certificate common names of the streams opened (mTLS)
}

func startControlPlane(t *testing.T) *controlPlane {
	cp := &controlPlane{t: t, cache: cachev3.NewSnapshotCache(true, cachev3.IDHash{}, nil)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cp.addr = ln.Addr().String()
	cp.serve(ln)
	t.Cleanup(cp.stop)
	return cp
}

func (cp *controlPlane) port() uint32 {
	_, p, _ := net.SplitHostPort(cp.addr)
	n, _ := strconv.Atoi(p)
	return uint32(n)
}

func (cp *controlPlane) serve(ln net.Listener) {
	cb := serverv3.CallbackFuncs{
		StreamOpenFunc: func(ctx context.Context, _ int64, _ string) error {
			cp.notePeer(ctx)
			return nil
		},
		DeltaStreamOpenFunc: func(ctx context.Context, _ int64, _ string) error {
			cp.notePeer(ctx)
			return nil
		},
		StreamRequestFunc: func(_ int64, r *discoveryv3.DiscoveryRequest) error {
			cp.nack(r.GetErrorDetail().GetMessage())
			return nil
		},
		StreamDeltaRequestFunc: func(_ int64, r *discoveryv3.DeltaDiscoveryRequest) error {
			cp.nack(r.GetErrorDetail().GetMessage())
			return nil
		},
	}
	xs := serverv3.NewServer(context.Background(), cp.cache, cb)
	gs := grpc.NewServer(cp.opts...)
	discoveryv3.RegisterAggregatedDiscoveryServiceServer(gs, xs)
	clusterservice.RegisterClusterDiscoveryServiceServer(gs, xs)
	listenerservice.RegisterListenerDiscoveryServiceServer(gs, xs)
	endpointservice.RegisterEndpointDiscoveryServiceServer(gs, xs)
	routeservice.RegisterRouteDiscoveryServiceServer(gs, xs)
	cp.mu.Lock()
	cp.srv = gs
	cp.mu.Unlock()
	go gs.Serve(ln)
}

func (cp *controlPlane) nack(msg string) {
	if msg == "" {
		return
	}
	cp.mu.Lock()
	cp.nacks = append(cp.nacks, msg)
	cp.mu.Unlock()
}

// nacked returns the NACK messages received so far.
func (cp *controlPlane) nacked() []string {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	return append([]string(nil), cp.nacks...)
}

// stop ends the server and every stream at once.
func (cp *controlPlane) stop() {
	cp.mu.Lock()
	defer cp.mu.Unlock()
	if cp.srv != nil {
		cp.srv.Stop()
		cp.srv = nil
	}
}

// restart serves again at the same address.
func (cp *controlPlane) restart() {
	ln, err := net.Listen("tcp", cp.addr)
	if err != nil {
		cp.t.Fatal(err)
	}
	cp.serve(ln)
}

// set publishes a snapshot for sluice's node.
func (cp *controlPlane) set(version string, res map[resource.Type][]types.Resource) {
	cp.t.Helper()
	cp.setFor(nodeID, version, res)
}

// setFor publishes a snapshot for a node id.
func (cp *controlPlane) setFor(node, version string, res map[resource.Type][]types.Resource) {
	cp.t.Helper()
	snap, err := cachev3.NewSnapshot(version, res)
	if err != nil {
		cp.t.Fatal(err)
	}
	if err := cp.cache.SetSnapshot(context.Background(), node, snap); err != nil {
		cp.t.Fatal(err)
	}
	cp.mu.Lock()
	cp.version = version
	cp.mu.Unlock()
}

// Resource builders.

func sockAddr(hostport string) *corev3.Address {
	h, p, _ := net.SplitHostPort(hostport)
	n, _ := strconv.Atoi(p)
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Address: h, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: uint32(n)}}}}
}

func tcpListener(name, addr, cluster string) *listenerv3.Listener {
	tp, err := anypb.New(&tcpproxyv3.TcpProxy{StatPrefix: name,
		ClusterSpecifier: &tcpproxyv3.TcpProxy_Cluster{Cluster: cluster}})
	if err != nil {
		panic(err)
	}
	return &listenerv3.Listener{Name: name, Address: sockAddr(addr),
		FilterChains: []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{{
			Name: "envoy.filters.network.tcp_proxy", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: tp}}}}}}
}

func edsCluster(name string, src *corev3.ConfigSource) *clusterv3.Cluster {
	return &clusterv3.Cluster{Name: name, ConnectTimeout: durationpb.New(time.Second),
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
		EdsClusterConfig:     &clusterv3.Cluster_EdsClusterConfig{EdsConfig: src}}
}

func staticCluster(name string, addrs ...string) *clusterv3.Cluster {
	return &clusterv3.Cluster{Name: name, ConnectTimeout: durationpb.New(time.Second),
		ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STATIC},
		LoadAssignment:       cla(name, addrs...)}
}

func cla(name string, addrs ...string) *endpointv3.ClusterLoadAssignment {
	var lbs []*endpointv3.LbEndpoint
	for _, a := range addrs {
		lbs = append(lbs, &endpointv3.LbEndpoint{HostIdentifier: &endpointv3.LbEndpoint_Endpoint{
			Endpoint: &endpointv3.Endpoint{Address: sockAddr(a)}},
			LoadBalancingWeight: wrapperspb.UInt32(1)})
	}
	return &endpointv3.ClusterLoadAssignment{ClusterName: name,
		Endpoints: []*endpointv3.LocalityLbEndpoints{{LbEndpoints: lbs}}}
}

// adsSource is a ConfigSource naming the ADS stream.
func adsSource() *corev3.ConfigSource {
	return &corev3.ConfigSource{ResourceApiVersion: corev3.ApiVersion_V3,
		ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}}}
}

// apiSource is a ConfigSource naming a per-type stream to the xds cluster.
func apiSource(delta bool) *corev3.ConfigSource {
	t := corev3.ApiConfigSource_GRPC
	if delta {
		t = corev3.ApiConfigSource_DELTA_GRPC
	}
	return &corev3.ConfigSource{ResourceApiVersion: corev3.ApiVersion_V3,
		ConfigSourceSpecifier: &corev3.ConfigSource_ApiConfigSource{ApiConfigSource: &corev3.ApiConfigSource{
			ApiType: t, TransportApiVersion: corev3.ApiVersion_V3,
			GrpcServices: []*corev3.GrpcService{{TargetSpecifier: &corev3.GrpcService_EnvoyGrpc_{
				EnvoyGrpc: &corev3.GrpcService_EnvoyGrpc{ClusterName: "xds"}}}}}}}
}

// bootstrap returns sluice's Envoy bootstrap for a mode.
func bootstrap(cp *controlPlane, ads, delta bool) string {
	api := "GRPC"
	if delta {
		api = "DELTA_GRPC"
	}
	src := "{ads: {}, resource_api_version: V3}"
	adsCfg := ""
	if ads {
		adsCfg = fmt.Sprintf("  ads_config: {api_type: %s, transport_api_version: V3, grpc_services: [{envoy_grpc: {cluster_name: xds}}]}\n", api)
	} else {
		src = fmt.Sprintf("{api_config_source: {api_type: %s, transport_api_version: V3, grpc_services: [{envoy_grpc: {cluster_name: xds}}]}, resource_api_version: V3}", api)
	}
	return fmt.Sprintf(`node: {id: %s, cluster: test}
dynamic_resources:
%s  cds_config: %s
  lds_config: %s
static_resources:
  clusters:
  - name: xds
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: xds
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %d}}}}]}]
`, nodeID, adsCfg, src, src, cp.port())
}

func joinLines(s []string) string { return strings.Join(s, "\n") }
