package envoy

import (
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/sluice-proxy/sluice/config"
)

// clusterSpecs: clusters, endpoints, load balancing and protection.
var clusterSpecs = []message{
	{name: "envoy.config.cluster.v3.Cluster", translate: (*translator).cluster, fields: []field{
		ok("name"),
		okNote("type", "STATIC, STRICT_DNS, LOGICAL_DNS, EDS (ORIGINAL_DST is refused)"),
		own("eds_cluster_config", "where an EDS cluster's endpoints come from (config/xds)"),
		ok("connect_timeout"),
		okNote("lb_policy", "ROUND_ROBIN, LEAST_REQUEST, RANDOM, RING_HASH, MAGLEV"),
		own("load_assignment", "endpoints with load_balancing_weight, priorities, localities and locality weights (spec_priority.go)"),
		ok("dns_refresh_rate"),
		ignored("dns_lookup_family", "sluice uses the system resolver's answers, every family"),
		ignored("respect_dns_ttl", "names are resolved again every dns_refresh_rate"),
		ok("health_checks"), ok("outlier_detection"), ok("circuit_breakers"),
		own("common_lb_config", "healthy_panic_threshold and locality_weighted_lb_config"),
		own("cluster_type", "envoy.clusters.redis (RedisClusterConfig): sluice's redis_cluster; lb_policy CLUSTER_PROVIDED goes with it"),
		ok("ring_hash_lb_config"), ok("maglev_lb_config"), ok("least_request_lb_config"),
		ignored("per_connection_buffer_limit_bytes", "sluice's buffers are fixed-size per connection"),
		own("typed_extension_protocol_options", "envoy.extensions.upstreams.http.v3.HttpProtocolOptions (the HTTP pools) and envoy.filters.network.thrift_proxy (ThriftProtocolOptions)"),
		own("transport_socket", "UpstreamTlsContext (TLS origination, sluice's tls), envoy.transport_sockets.upstream_proxy_protocol over raw_buffer or TLS (spec_upstream.go)"),
		okNote("http2_protocol_options", "deprecated in Envoy; the cluster speaks HTTP/2"),
		okNote("preconnect_policy", "per_upstream_preconnect_ratio, for the HTTP/2 pools"),
	}},
	{name: "envoy.config.endpoint.v3.LbEndpoint", fields: []field{
		own("endpoint", ""), own("load_balancing_weight", "1..128"),
	}},
	{name: "envoy.config.endpoint.v3.Endpoint", fields: []field{
		own("address", ""),
		own("hostname", "the Host auto_host_rewrite sends"),
	}},
	{name: "envoy.config.cluster.v3.Cluster.CommonLbConfig", fields: []field{
		own("healthy_panic_threshold", ""),
		own("locality_weighted_lb_config", "round_robin, least_request and random (sluice's locality_weighted_lb)"),
	}},
	{name: "envoy.config.cluster.v3.Cluster.CustomClusterType", fields: []field{
		own("name", "envoy.clusters.redis"), own("typed_config", "envoy.extensions.clusters.redis.v3.RedisClusterConfig"),
	}},
	{name: "envoy.extensions.clusters.redis.v3.RedisClusterConfig", fields: []field{
		own("cluster_refresh_rate", ""),
		ignored("cluster_refresh_timeout", "sluice bounds a refresh by connect_timeout"),
		own("redirect_refresh_interval", ""), own("redirect_refresh_threshold", "MOVED and ASK count"),
		own("failure_refresh_threshold", "connect failures and failed requests to nodes count"),
		ignored("host_degraded_refresh_threshold", "sluice has no degraded host state; health checks and outlier detection mark nodes unhealthy instead"),
	}},
	{name: "envoy.type.v3.Percent", translate: percent, fields: []field{own("value", "")}},
	{name: "envoy.config.cluster.v3.Cluster.RingHashLbConfig", fields: oks("minimum_ring_size", "maximum_ring_size", "hash_function")},
	{name: "envoy.config.cluster.v3.Cluster.MaglevLbConfig", fields: oks("table_size")},
	{name: "envoy.config.cluster.v3.Cluster.LeastRequestLbConfig", fields: oks("choice_count", "active_request_bias")},
	{name: "envoy.config.core.v3.RuntimeDouble", translate: runtimeDouble, fields: []field{
		own("default_value", ""), ignored("runtime_key", "sluice has no runtime"),
	}},
	{name: "envoy.config.cluster.v3.OutlierDetection", fields: oks(
		"consecutive_5xx", "consecutive_gateway_failure", "consecutive_local_origin_failure",
		"interval", "base_ejection_time", "max_ejection_time", "max_ejection_percent",
		"enforcing_consecutive_5xx", "enforcing_consecutive_gateway_failure",
		"enforcing_consecutive_local_origin_failure", "split_external_local_origin_errors",
		"successful_active_health_check_uneject_host")},
	{name: "envoy.config.cluster.v3.CircuitBreakers", fields: oks("thresholds")},
	{name: "envoy.config.cluster.v3.CircuitBreakers.Thresholds", fields: oks(
		"priority", "max_connections", "max_pending_requests", "max_requests", "max_retries", "track_remaining",
		"retry_budget")},
	{name: "envoy.config.cluster.v3.CircuitBreakers.Thresholds.RetryBudget", fields: oks("budget_percent", "min_retry_concurrency")},
}

// cluster copies the cluster's fields and flattens load_assignment into
// sluice's endpoints.
func (t *translator) cluster(m protoreflect.Message, env, slu string) any {
	out := t.copyFields(m, specs[m.Descriptor().FullName()], env, slu)
	lower(out, "type")
	lower(out, "lb_policy")
	t.thriftProtocolOptions(m, env, slu, out)
	fds := m.Descriptor().Fields()
	if fd := fds.ByName("cluster_type"); m.Has(fd) {
		t.customCluster(m.Get(fd).Message(), config.Join(env, "cluster_type"), slu, out) // spec_http_egress.go
	}
	if fd := fds.ByName("common_lb_config"); m.Has(fd) {
		cl := m.Get(fd).Message()
		if hp := cl.Descriptor().Fields().ByName("healthy_panic_threshold"); cl.Has(hp) {
			p := config.Join(env, "common_lb_config.healthy_panic_threshold")
			out["healthy_panic_threshold"] = t.message(cl.Get(hp).Message(), p, config.Join(slu, "healthy_panic_threshold"))
		}
		if lw := cl.Descriptor().Fields().ByName("locality_weighted_lb_config"); cl.Has(lw) {
			out["locality_weighted_lb"] = true
			t.paths[config.Join(slu, "locality_weighted_lb")] = config.Join(env, "common_lb_config.locality_weighted_lb_config")
		}
	}
	if fd := fds.ByName("transport_socket"); m.Has(fd) {
		t.upstreamTransport(m.Get(fd).Message(), config.Join(env, "transport_socket"), slu, out)
	}
	fd := fds.ByName("load_assignment")
	if !m.Has(fd) {
		return out
	}
	var eps []any
	la := m.Get(fd).Message()
	laEnv := config.Join(env, "load_assignment")
	t.paths[config.Join(slu, "endpoints")] = laEnv
	lles := la.Get(la.Descriptor().Fields().ByName("endpoints")).List()
	for i := 0; i < lles.Len(); i++ {
		lle := lles.Get(i).Message()
		lleEnv := config.Index(config.Join(laEnv, "endpoints"), i)
		place := t.localityPlace(lle, lleEnv)
		lbes := lle.Get(lle.Descriptor().Fields().ByName("lb_endpoints")).List()
		for j := 0; j < lbes.Len(); j++ {
			lbe := lbes.Get(j).Message()
			p := config.Index(config.Join(lleEnv, "lb_endpoints"), j)
			sp := config.Index(config.Join(slu, "endpoints"), len(eps))
			t.paths[sp] = p
			ep := map[string]any{}
			lfds := lbe.Descriptor().Fields()
			if efd := lfds.ByName("endpoint"); lbe.Has(efd) {
				e := lbe.Get(efd).Message()
				afd := e.Descriptor().Fields().ByName("address")
				if e.Has(afd) {
					ep["address"] = t.message(e.Get(afd).Message(), config.Join(p, "endpoint.address"), config.Join(sp, "address"))
				}
				if h := e.Get(e.Descriptor().Fields().ByName("hostname")).String(); h != "" {
					ep["hostname"] = h
				}
			}
			if wfd := lfds.ByName("load_balancing_weight"); lbe.Has(wfd) {
				ep["weight"] = t.message(lbe.Get(wfd).Message(), config.Join(p, "load_balancing_weight"), config.Join(sp, "weight"))
			}
			for k, v := range place {
				ep[k] = v
				t.paths[config.Join(sp, k)] = config.Join(lleEnv, placeField[k])
			}
			eps = append(eps, ep)
		}
	}
	t.assignmentPolicy(la, laEnv, slu, out)
	out["endpoints"] = eps
	return out
}

func percent(t *translator, m protoreflect.Message, env, slu string) any {
	return m.Get(m.Descriptor().Fields().ByName("value")).Float()
}

func runtimeDouble(t *translator, m protoreflect.Message, env, slu string) any {
	return m.Get(m.Descriptor().Fields().ByName("default_value")).Float()
}

// redisCluster makes a cluster with Envoy's envoy.clusters.redis type
// sluice's redis_cluster; Envoy's lb_policy for it, CLUSTER_PROVIDED, is
// what sluice's redis_cluster does (slots pick the node), so it is dropped.
func (t *translator) redisCluster(ct protoreflect.Message, env, slu string, out map[string]any) {
	fd := ct.Descriptor().Fields().ByName("typed_config")
	if !ct.Has(fd) {
		t.errs.Add(config.Join(env, "typed_config"), "required: sluice has envoy.extensions.clusters.redis.v3.RedisClusterConfig")
		return
	}
	inner, err := unpack(ct.Get(fd).Message())
	if err != nil {
		t.errs.Add(config.Join(env, "typed_config"), "%v", err)
		return
	}
	if inner.Descriptor().FullName() != "envoy.extensions.clusters.redis.v3.RedisClusterConfig" {
		t.errs.Add(config.Join(env, "typed_config.@type"), "%s: not supported by sluice (it has envoy.clusters.redis)", inner.Descriptor().FullName())
		return
	}
	out["type"] = "redis_cluster"
	if out["lb_policy"] == "cluster_provided" {
		delete(out, "lb_policy")
	}
	t.paths[config.Join(slu, "type")] = env
	for _, name := range []protoreflect.Name{"cluster_refresh_rate", "redirect_refresh_interval", "redirect_refresh_threshold"} {
		if fd := inner.Descriptor().Fields().ByName(name); inner.Has(fd) {
			p := config.Join(env, "typed_config."+string(name))
			out[string(name)] = t.message(inner.Get(fd).Message(), p, config.Join(slu, string(name)))
		}
	}
	if fd := inner.Descriptor().Fields().ByName("failure_refresh_threshold"); inner.Has(fd) {
		out["failure_refresh_threshold"] = inner.Get(fd).Uint()
		t.paths[config.Join(slu, "failure_refresh_threshold")] = config.Join(env, "typed_config.failure_refresh_threshold")
	}
}
