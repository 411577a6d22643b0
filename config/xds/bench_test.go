package xds

import (
	"fmt"
	"testing"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"google.golang.org/protobuf/types/known/durationpb"
)

// bigUpdate is n EDS clusters and their assignments, eps endpoints in all.
func bigUpdate(n, eps int) (clusters, clas map[string]resource) {
	clusters, clas = map[string]resource{}, map[string]resource{}
	ads := &corev3.ConfigSource{ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}}}
	k := 0
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("c%d", i)
		clusters[name] = resource{msg: &clusterv3.Cluster{Name: name, ConnectTimeout: durationpb.New(time.Second),
			ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
			EdsClusterConfig:     &clusterv3.Cluster_EdsClusterConfig{EdsConfig: ads}}}
		var lbs []*endpointv3.LbEndpoint
		for j := 0; j < eps/n; j++ {
			lbs = append(lbs, &endpointv3.LbEndpoint{HostIdentifier: &endpointv3.LbEndpoint_Endpoint{Endpoint: &endpointv3.Endpoint{
				Address: &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
					Address: fmt.Sprintf("10.%d.%d.%d", k>>16&255, k>>8&255, k&255), PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: 1000}}}}}}})
			k++
		}
		clas[name] = resource{msg: &endpointv3.ClusterLoadAssignment{ClusterName: name,
			Endpoints: []*endpointv3.LocalityLbEndpoints{{LbEndpoints: lbs}}}}
	}
	return clusters, clas
}

// BenchmarkAssemble: checking and translating 10,000 EDS clusters with
// 100,000 endpoints (the loader's share of bench/xds.sh's big push).
func BenchmarkAssemble(b *testing.B) {
	clusters, clas := bigUpdate(10000, 100000)
	c := fuzzClient(b)
	cand := map[string]map[string]resource{ClusterType: clusters, EndpointType: clas}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := c.assemble(cand); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFastEDS: moving the endpoints of 10,000 running clusters
// (100,000 endpoints) by one EDS update, the loader's share.
func BenchmarkFastEDS(b *testing.B) {
	clusters, clas := bigUpdate(10000, 100000)
	c := fuzzClient(b)
	c.res = map[string]map[string]resource{ClusterType: clusters, EndpointType: clas}
	cfg, _, err := c.assemble(c.res)
	if err != nil {
		b.Fatal(err)
	}
	c.applied = cfg
	u := &update{typeURL: EndpointType, resources: clas}
	b.ReportAllocs()
	for b.Loop() {
		if _, fast, err := c.fastEDS(u); !fast || err != nil {
			b.Fatal(fast, err)
		}
	}
}
