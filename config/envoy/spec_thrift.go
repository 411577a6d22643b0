package envoy

import (
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/sluice-proxy/sluice/config"
)

// thriftSpecs: thrift_proxy, its route configuration, the router thrift
// filter and the clusters' ThriftProtocolOptions.
var thriftSpecs = []message{
	{name: "envoy.extensions.filters.network.thrift_proxy.v3.ThriftProxy", fields: []field{
		okNote("transport", "AUTO_TRANSPORT, FRAMED, UNFRAMED, HEADER"),
		okNote("protocol", "AUTO_PROTOCOL, BINARY, LAX_BINARY, COMPACT (TWITTER is refused)"),
		ok("stat_prefix"), ok("route_config"), ok("thrift_filters"),
		okNote("payload_passthrough", "sluice passes bodies through unless it translates between protocols"),
		ok("max_requests_per_connection"),
		ignored("header_keys_preserve_case", "header names are passed on as they came and matched ignoring case"),
	}, note: "trds (route discovery) and access_log are refused"},
	{name: "envoy.extensions.filters.network.thrift_proxy.v3.RouteConfiguration", fields: []field{
		ok("name"), ok("routes"),
		ignored("validate_clusters", "sluice always checks the clusters a route names at load"),
	}},
	{name: "envoy.extensions.filters.network.thrift_proxy.v3.Route", fields: oks("match", "route")},
	{name: "envoy.extensions.filters.network.thrift_proxy.v3.RouteMatch", fields: []field{
		ok("method_name"), ok("service_name"), ok("invert"),
		okNote("headers", "header transport headers: name with string_match, exact_match, prefix_match or present_match; invert_match"),
	}},
	{name: "envoy.extensions.filters.network.thrift_proxy.v3.RouteAction", fields: oks(
		"cluster", "weighted_clusters", "cluster_header", "strip_service_name", "request_mirror_policies"),
		note: "metadata_match and rate_limits are refused"},
	{name: "envoy.extensions.filters.network.thrift_proxy.v3.WeightedCluster", fields: oks("clusters")},
	{name: "envoy.extensions.filters.network.thrift_proxy.v3.WeightedCluster.ClusterWeight", fields: oks("name", "weight"),
		note: "metadata_match is refused"},
	{name: "envoy.extensions.filters.network.thrift_proxy.v3.RouteAction.RequestMirrorPolicy", fields: oks("cluster", "runtime_fraction")},
	// RuntimeFractionalPercent, FractionalPercent and HeaderMatcher are
	// shared with the HTTP route tables (spec_route.go); thrift_proxy's own
	// config refuses the header matchers it does not have.
	{name: "envoy.extensions.filters.network.thrift_proxy.v3.ThriftFilter", fields: []field{
		okNote("name", "envoy.filters.thrift.router only"), ok("typed_config"),
	}},
	{name: "envoy.extensions.filters.network.thrift_proxy.router.v3.Router", fields: []field{
		ok("close_downstream_on_upstream_error"),
	}},
	{name: "envoy.extensions.filters.network.thrift_proxy.v3.ThriftProtocolOptions", fields: oks("transport", "protocol"),
		note: "in a cluster's typed_extension_protocol_options under envoy.filters.network.thrift_proxy"},
}

// thriftOptionsKey is the typed_extension_protocol_options key of
// thrift_proxy's per-cluster options.
const thriftOptionsKey = "envoy.filters.network.thrift_proxy"

// Added to the shared tables here rather than in spec.go's lists, so that
// filters added in parallel do not edit the same lines. spec.go's init
// runs first (files initialize in name order).
func init() {
	filterNames["envoy.extensions.filters.network.thrift_proxy.v3.ThriftProxy"] = "thrift_proxy"
	for name, m := range indexSpecs(thriftSpecs) {
		if specs[name] != nil {
			panic("envoy: message " + string(name) + " in two tables")
		}
		specs[name] = m
	}
}

// httpOptionsKey is the HTTP pools' entry of typed_extension_protocol_options.
const httpOptionsKey = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"

// thriftProtocolOptions translates typed_extension_protocol_options: the
// HTTP pools' and thrift_proxy's entries.
func (t *translator) thriftProtocolOptions(m protoreflect.Message, env, slu string, out map[string]any) {
	fd := m.Descriptor().Fields().ByName("typed_extension_protocol_options")
	if fd == nil || !m.Has(fd) {
		return
	}
	env = config.Join(env, "typed_extension_protocol_options")
	m.Get(fd).Map().Range(func(k protoreflect.MapKey, v protoreflect.Value) bool {
		p := config.Join(env, k.String())
		switch k.String() {
		case thriftOptionsKey:
			out["thrift_protocol_options"] = t.message(v.Message(), p, config.Join(slu, "thrift_protocol_options"))
		case httpOptionsKey:
			out["typed_extension_protocol_options"] = map[string]any{
				httpOptionsKey: t.message(v.Message(), p, config.Join(config.Join(slu, "typed_extension_protocol_options"), httpOptionsKey)),
			}
		default:
			t.errs.Add(p, "not supported by sluice (only %s and %s)", httpOptionsKey, thriftOptionsKey)
		}
		return true
	})
}
