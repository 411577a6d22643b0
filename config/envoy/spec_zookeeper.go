package envoy

import (
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/zookeeper_proxy/v3" // the @type
)

// zookeeperSpecs: zookeeper_proxy's typed config. Every field but the
// never-implemented access_log maps one to one onto sluice's config.
var zookeeperSpecs = []message{
	{name: "envoy.extensions.filters.network.zookeeper_proxy.v3.ZooKeeperProxy", fields: []field{
		ok("stat_prefix"),
		okNote("max_packet_bytes", "a longer frame counts decoder_error and closes the connection (Envoy stops decoding)"),
		ok("enable_latency_threshold_metrics"), ok("default_latency_threshold"), ok("latency_threshold_overrides"),
		ok("enable_per_opcode_request_bytes_metrics"), ok("enable_per_opcode_response_bytes_metrics"),
		ok("enable_per_opcode_decoder_error_metrics"),
		ignored("access_log", "not implemented in Envoy either"),
	}},
	{name: "envoy.extensions.filters.network.zookeeper_proxy.v3.LatencyThresholdOverride", fields: oks("opcode", "threshold")},

	// rbac's metadata permission, for policies on zookeeper_proxy's metadata.
	{name: "envoy.type.matcher.v3.MetadataMatcher", fields: oks("filter", "path", "value", "invert")},
	{name: "envoy.type.matcher.v3.MetadataMatcher.PathSegment", fields: oks("key")},
	{name: "envoy.type.matcher.v3.ValueMatcher", fields: oks("string_match", "present_match")},
}

// registerZooKeeper adds the tables and the filter's @type before spec.go's
// init indexes them (package variables are initialized before any init),
// keeping this filter's loader in its own file.
var _ = registerZooKeeper()

func registerZooKeeper() bool {
	filterSpecs = append(filterSpecs, zookeeperSpecs...)
	filterNames["envoy.extensions.filters.network.zookeeper_proxy.v3.ZooKeeperProxy"] = "zookeeper_proxy"
	return true
}
