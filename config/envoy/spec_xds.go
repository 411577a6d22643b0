package envoy

// xdsSpecs: dynamic_resources, config sources and the node identity that
// config/xds reads; the translator leaves them out of sluice's static
// config (the xDS client reads them from the decoded bootstrap).
// ConfigSource, PathConfigSource, WatchedDirectory and AggregatedConfigSource
// are shared with SDS (spec_tls.go).
var xdsSpecs = []message{
	{name: "envoy.config.bootstrap.v3.Bootstrap.DynamicResources", fields: []field{
		own("lds_config", "listeners from a control plane (ads, api_config_source) or a file (path_config_source)"),
		own("cds_config", "clusters from a control plane (ads, api_config_source) or a file (path_config_source)"),
		own("ads_config", "api_type GRPC or DELTA_GRPC over one envoy_grpc cluster"),
	}},
	{name: "envoy.config.core.v3.ApiConfigSource", fields: []field{
		own("api_type", "GRPC (State of the World) or DELTA_GRPC (incremental)"),
		own("transport_api_version", "V3 only"),
		own("grpc_services", "exactly one, envoy_grpc"),
		ignored("set_node_on_first_message_only", "sluice sends the node in every request"),
		own("rate_limit_settings", "a token bucket on the requests sent (control_plane.rate_limit_enforced)"),
		ignored("refresh_delay", "used by REST only"),
		ignored("request_timeout", "used by REST only"),
	}},
	{name: "envoy.config.core.v3.GrpcService", fields: []field{
		okNote("envoy_grpc", "a cluster (xDS: a static cluster of the bootstrap, plain TCP)"),
		okNote("timeout", "each call's deadline (ext_authz, ratelimit); xDS streams have none"),
	}},
	{name: "envoy.config.core.v3.GrpcService.EnvoyGrpc", fields: []field{
		ok("cluster_name"), okNote("authority", "the :authority of the calls"),
		okNote("max_receive_message_length", "a larger response ends the call; 0 (Envoy's unlimited) is 1 GiB for xDS, 4 MiB for filters"),
	}},
	{name: "envoy.config.cluster.v3.Cluster.EdsClusterConfig", fields: []field{
		own("eds_config", "ads or api_config_source (the same management cluster as CDS), or path_config_source"),
		own("service_name", "the ClusterLoadAssignment's name; default the cluster's name"),
	}},
	{name: "envoy.config.core.v3.Node", fields: []field{
		own("id", "sent to the control plane; --service-node overrides it"),
		own("cluster", "sent to the control plane; --service-cluster overrides it"),
		own("metadata", "sent to the control plane"),
		own("locality", "sent to the control plane"),
		ignored("user_agent_name", "sluice sends its own"),
	}},
	{name: "envoy.config.core.v3.Locality", fields: oks("region", "zone", "sub_zone")},
	// google.protobuf.Struct (node.metadata) is in runtimeSpecs.
}
