package xds

import (
	"log/slog"
	"testing"
	"time"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/sluice-proxy/sluice/cluster"
	"github.com/sluice-proxy/sluice/config"
	_ "github.com/sluice-proxy/sluice/filters/all"
	"github.com/sluice-proxy/sluice/stats"
)

// fuzzClient is a client whose updates are translated but applied nowhere:
// the fuzz targets exercise decoding, checking and translation.
func fuzzClient(t testing.TB) *Client {
	root := stats.New().Root()
	c, err := New(Options{File: "fuzz.yaml", Bootstrap: &bootstrapv3.Bootstrap{}, Server: sink{},
		Clusters: cluster.NewManager(root, slog.New(slog.DiscardHandler)), Stats: root})
	if err != nil {
		t.Fatal(err)
	}
	c.stopped = true // no initial-fetch timers fire
	return c
}

// sink takes configs and keeps nothing.
type sink struct{}

func (sink) Apply(*config.Config) error                 { return nil }
func (sink) ApplyClusters(*config.Config) (bool, error) { return true, nil }

// seedResponses are real responses: a listener, a cluster and its
// endpoints, as go-control-plane sends them.
func seedResponses(t testing.TB) [][]byte {
	tp, _ := anypb.New(&tcpproxyv3.TcpProxy{StatPrefix: "l", ClusterSpecifier: &tcpproxyv3.TcpProxy_Cluster{Cluster: "c"}})
	addr := &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Address: "127.0.0.1", PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 6379}}}}
	msgs := []proto.Message{
		&listenerv3.Listener{Name: "l", Address: addr, FilterChains: []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{{
			Name: "tcp", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: tp}}}}}},
		&clusterv3.Cluster{Name: "c", ConnectTimeout: durationpb.New(time.Second),
			ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS}},
		&endpointv3.ClusterLoadAssignment{ClusterName: "c", Endpoints: []*endpointv3.LocalityLbEndpoints{{
			LbEndpoints: []*endpointv3.LbEndpoint{{HostIdentifier: &endpointv3.LbEndpoint_Endpoint{
				Endpoint: &endpointv3.Endpoint{Address: addr}}}}}}},
	}
	// RDS and SDS: an http_connection_manager listener naming its routes
	// over ADS, the route configuration and a secret.
	hcm, _ := anypb.New(&hcmv3.HttpConnectionManager{StatPrefix: "web", RouteSpecifier: &hcmv3.HttpConnectionManager_Rds{
		Rds: &hcmv3.Rds{RouteConfigName: "r", ConfigSource: &corev3.ConfigSource{
			ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}}}}}})
	msgs = append(msgs,
		&listenerv3.Listener{Name: "web", Address: addr, FilterChains: []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{{
			Name: "hcm", ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: hcm}}}}}},
		&routev3.RouteConfiguration{Name: "r", VirtualHosts: []*routev3.VirtualHost{{Name: "v", Domains: []string{"*"},
			Routes: []*routev3.Route{{Match: &routev3.RouteMatch{PathSpecifier: &routev3.RouteMatch_Prefix{Prefix: "/"}},
				Action: &routev3.Route_Route{Route: &routev3.RouteAction{ClusterSpecifier: &routev3.RouteAction_Cluster{Cluster: "c"}}}}}}}},
		&tlsv3.Secret{Name: "s", Type: &tlsv3.Secret_TlsCertificate{TlsCertificate: &tlsv3.TlsCertificate{
			CertificateChain: &corev3.DataSource{Specifier: &corev3.DataSource_InlineString{InlineString: "x"}}}}})
	var out [][]byte
	for _, m := range msgs {
		a, _ := anypb.New(m)
		b, err := proto.Marshal(&discoveryv3.DiscoveryResponse{VersionInfo: "1", TypeUrl: a.TypeUrl, Resources: []*anypb.Any{a}})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// FuzzDiscoveryResponse: any bytes as a response from a control plane are
// decoded, refused or translated, never a panic.
func FuzzDiscoveryResponse(f *testing.F) {
	for _, s := range seedResponses(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var resp discoveryv3.DiscoveryResponse
		if proto.Unmarshal(data, &resp) != nil {
			return
		}
		h := handler(resp.GetTypeUrl())
		if h == nil {
			return
		}
		msgs, err := decode(resp.GetTypeUrl(), resp.GetResources())
		if err != nil {
			return
		}
		u := &update{typeURL: resp.GetTypeUrl(), version: resp.GetVersionInfo(), full: h.FullState,
			resources: map[string]resource{}}
		for _, m := range msgs {
			u.resources[h.Name(m)] = resource{msg: m}
		}
		fuzzClient(t).apply(u)
	})
}

// FuzzFileResponse: any bytes in a path_config_source file are refused
// with a reason or translated, never a panic.
func FuzzFileResponse(f *testing.F) {
	f.Add([]byte(`version_info: "1"
resources:
- "@type": type.googleapis.com/envoy.config.cluster.v3.Cluster
  name: redis
  type: STATIC
  load_assignment:
    cluster_name: redis
    endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 6379}}}}]}]
`))
	f.Add([]byte(`{"version_info": "1", "resources": [{"@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster", "name": "c", "lb_policy": "MAGLEV"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fs := &fileSource{typeURL: ClusterType, path: "cds.yaml"}
		u, err := fs.decode(data)
		if err != nil {
			return
		}
		fuzzClient(t).apply(u)
	})
}
