package thrift_test

import (
	"strings"
	"testing"

	"github.com/sluice-proxy/sluice/config"
)

// TestConfigErrors: bad configs are refused with their field path.
func TestConfigErrors(t *testing.T) {
	cl := clusterYAML("c", "", "127.0.0.1:1")
	for _, tc := range []struct {
		name, filter, clusters, want string
	}{
		{"no prefix", "route_config: {routes: [{match: {method_name: a}, route: {cluster: c}}]}", cl,
			"listeners[0].filters[0].thrift_proxy.stat_prefix: required"},
		{"twitter", "stat_prefix: x\nprotocol: TWITTER\nroute_config: {routes: [{match: {method_name: a}, route: {cluster: c}}]}", cl,
			"thrift_proxy.protocol: TWITTER is not supported"},
		{"bad transport", "stat_prefix: x\ntransport: HTTP\nroute_config: {routes: [{match: {method_name: a}, route: {cluster: c}}]}", cl,
			`thrift_proxy.transport: unknown transport "HTTP"`},
		{"no routes", "stat_prefix: x\nroute_config: {routes: []}", cl,
			"thrift_proxy.route_config.routes: at least one route is required"},
		{"two matches", "stat_prefix: x\nroute_config: {routes: [{match: {method_name: a, service_name: b}, route: {cluster: c}}]}", cl,
			"thrift_proxy.route_config.routes[0].match: set exactly one of method_name, service_name"},
		{"empty invert", "stat_prefix: x\nroute_config: {routes: [{match: {method_name: \"\", invert: true}, route: {cluster: c}}]}", cl,
			"routes[0].match.invert: cannot invert an empty method_name"},
		{"two actions", "stat_prefix: x\nroute_config: {routes: [{match: {method_name: a}, route: {cluster: c, cluster_header: h}}]}", cl,
			"routes[0].route: set exactly one of cluster, weighted_clusters, cluster_header"},
		{"unknown cluster", "stat_prefix: x\nroute_config: {routes: [{match: {method_name: a}, route: {cluster: nope}}]}", cl,
			`routes[0].route.cluster: no such cluster "nope"`},
		{"unknown weighted", "stat_prefix: x\nroute_config: {routes: [{match: {method_name: a}, route: {weighted_clusters: {clusters: [{name: nope, weight: 1}]}}}]}", cl,
			`weighted_clusters.clusters[0].name: no such cluster "nope"`},
		{"zero weights", "stat_prefix: x\nroute_config: {routes: [{match: {method_name: a}, route: {weighted_clusters: {clusters: [{name: c, weight: 0}]}}}]}", cl,
			"weighted_clusters.clusters: weights sum to 0"},
		{"bad header", "stat_prefix: x\nroute_config: {routes: [{match: {method_name: a, headers: [{name: h}]}, route: {cluster: c}}]}", cl,
			"match.headers[0]: set exactly one of string_match, exact_match, prefix_match, present_match"},
		{"unknown filter", "stat_prefix: x\nthrift_filters: [{name: envoy.filters.thrift.rate_limit}]\nroute_config: {routes: [{match: {method_name: a}, route: {cluster: c}}]}", cl,
			`thrift_filters[0].name: unknown thrift filter "envoy.filters.thrift.rate_limit"`},
		{"cluster options", "stat_prefix: x\nroute_config: {routes: [{match: {method_name: a}, route: {cluster: c}}]}",
			clusterYAML("c", "{protocol: TWITTER}", "127.0.0.1:1"), "clusters[0].thrift_protocol_options.protocol: TWITTER is not supported"},
		{"unknown field", "stat_prefix: x\nroutes: []\nroute_config: {routes: [{match: {method_name: a}, route: {cluster: c}}]}", cl,
			"thrift_proxy.routes: unknown field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Parse("t.yaml", []byte(proxyYAML(tc.filter, tc.clusters)))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v\nwant it to contain %q", err, tc.want)
			}
		})
	}
}
