package envoy

import (
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/sluice-proxy/sluice/config"

	// The dynamic forward proxy's cluster and filter configs.
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/clusters/dynamic_forward_proxy/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/dynamic_forward_proxy/v3"
)

const dfpClusterConfig = "envoy.extensions.clusters.dynamic_forward_proxy.v3.ClusterConfig"

func init() {
	httpFilterNames["envoy.extensions.filters.http.dynamic_forward_proxy.v3.FilterConfig"] = "dynamic_forward_proxy"
}

// egressSpecs: the egress pieces: CONNECT matching, the per-route upgrade
// configs that turn CONNECT into a tunnel, and the dynamic forward proxy's
// cluster (envoy.clusters.dynamic_forward_proxy) and HTTP filter.
var egressSpecs = []message{
	{name: "envoy.config.route.v3.RouteMatch.ConnectMatcher", fields: nil},
	{name: "envoy.config.route.v3.RouteAction.UpgradeConfig", fields: []field{
		okNote("upgrade_type", "CONNECT tunnels; websocket and others are recorded (every route forwards Upgrade requests)"),
		okNote("enabled", "true when unset"),
		okNote("connect_config", "only empty: sluice terminates CONNECT and tunnels the payload"),
	}},
	{name: "envoy.config.route.v3.RouteAction.UpgradeConfig.ConnectConfig", fields: nil,
		note: "proxy_protocol_config and allow_post are refused"},
	{name: dfpClusterConfig, fields: []field{own("dns_cache_config", "sluice's type dynamic_forward_proxy with dns_cache_config")},
		note: "sub_clusters_config, allow_coalesced_connections and allow_insecure_cluster_options are refused"},
	{name: "envoy.extensions.common.dynamic_forward_proxy.v3.DnsCacheConfig", fields: []field{
		ok("name"), okNote("dns_lookup_family", "V4_ONLY (default), V6_ONLY, V4_PREFERRED, AUTO, ALL"),
		okNote("max_hosts", "1024 when unset; beyond it 503 DF"), okNote("dns_refresh_rate", "60s when unset"),
		okNote("host_ttl", "5m when unset"),
	}},
	{name: "envoy.extensions.filters.http.dynamic_forward_proxy.v3.FilterConfig", fields: []field{
		okNote("dns_cache_config", "by name: the cluster's cache"),
	}, note: "allow-list hosts with virtual host domains (a \"*\" virtual host answers the rest)"},
}

// customCluster translates cluster_type: envoy.clusters.redis (spec_cluster.go)
// or envoy.clusters.dynamic_forward_proxy, sluice's type
// dynamic_forward_proxy (its lb_policy CLUSTER_PROVIDED is what it does: the
// request's authority picks the host).
func (t *translator) customCluster(ct protoreflect.Message, env, slu string, out map[string]any) {
	fd := ct.Descriptor().Fields().ByName("typed_config")
	if !ct.Has(fd) {
		t.redisCluster(ct, env, slu, out) // reports what is missing
		return
	}
	inner, err := unpack(ct.Get(fd).Message())
	if err != nil || inner.Descriptor().FullName() != dfpClusterConfig {
		t.redisCluster(ct, env, slu, out)
		return
	}
	p := config.Join(env, "typed_config")
	out["type"] = "dynamic_forward_proxy"
	if out["lb_policy"] == "cluster_provided" {
		delete(out, "lb_policy")
	}
	t.paths[config.Join(slu, "type")] = env
	if dfd := inner.Descriptor().Fields().ByName("dns_cache_config"); inner.Has(dfd) {
		out["dns_cache_config"] = t.message(inner.Get(dfd).Message(), config.Join(p, "dns_cache_config"), config.Join(slu, "dns_cache_config"))
	}
}
