package envoy

import (
	"google.golang.org/protobuf/reflect/protoreflect"
)

// filterSpecs: the network filters' typed configs.
var filterSpecs = []message{
	{name: "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy", fields: oks(
		"stat_prefix", "cluster", "weighted_clusters", "idle_timeout", "max_connect_attempts",
		"max_downstream_connection_duration", "hash_policy")},
	{name: "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.WeightedCluster", fields: oks("clusters")},
	{name: "envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy.WeightedCluster.ClusterWeight", fields: oks("name", "weight")},
	{name: "envoy.type.v3.HashPolicy", fields: oks("source_ip")},
	{name: "envoy.type.v3.HashPolicy.SourceIp", fields: nil},

	{name: "envoy.extensions.filters.network.redis_proxy.v3.RedisProxy", fields: []field{
		ok("stat_prefix"), ok("settings"), ok("prefix_routes"),
		ok("downstream_auth_password"), ok("downstream_auth_username"),
		ignored("latency_in_micros", "sluice's command latency histograms are in milliseconds"),
	}},
	{name: "envoy.extensions.filters.network.redis_proxy.v3.RedisProxy.ConnPoolSettings", translate: redisSettings, fields: append(oks(
		"op_timeout", "enable_hashtagging", "enable_redirection", "read_policy",
		"max_buffer_size_before_flush", "buffer_flush_timeout"),
		okNote("enable_command_stats", "adds cluster.<name>.redis_cluster.upstream_commands.<cmd>.total|success|failure|latency and upstream_commands.upstream_rq_time (microseconds); command.<cmd>.* are counted whatever it says, as in Envoy"))},
	{name: "envoy.extensions.filters.network.redis_proxy.v3.RedisProxy.PrefixRoutes", fields: oks(
		"routes", "case_insensitive", "catch_all_route")},
	{name: "envoy.extensions.filters.network.redis_proxy.v3.RedisProxy.PrefixRoutes.Route", fields: oks(
		"prefix", "remove_prefix", "cluster", "request_mirror_policy")},
	{name: "envoy.extensions.filters.network.redis_proxy.v3.RedisProxy.PrefixRoutes.Route.RequestMirrorPolicy", fields: oks(
		"cluster", "exclude_read_commands")},

	{name: "envoy.extensions.filters.network.postgres_proxy.v3alpha.PostgresProxy", translate: lowerFields("upstream_ssl"),
		fields: []field{ok("stat_prefix"), ok("enable_sql_parsing"), okNote("upstream_ssl", "DISABLE, REQUIRE")},
		note:   "terminate_ssl is refused: Envoy takes its certificate from the chain's starttls transport socket, which sluice does not read yet; use sluice's own config for it"},
	{name: "envoy.extensions.filters.network.mysql_proxy.v3.MySQLProxy", fields: []field{
		ok("stat_prefix"), ignored("access_log", "deprecated in Envoy; sluice writes no per-filter log"),
	}},

	{name: "envoy.extensions.filters.network.kafka_broker.v3.KafkaBroker", fields: oks(
		"stat_prefix", "force_response_rewrite", "id_based_broker_address_rewrite_spec",
		"api_keys_allowed", "api_keys_denied")},
	{name: "envoy.extensions.filters.network.kafka_broker.v3.IdBasedBrokerRewriteSpec", fields: oks("rules")},
	{name: "envoy.extensions.filters.network.kafka_broker.v3.IdBasedBrokerRewriteRule", fields: oks("id", "host", "port")},
	{name: "envoy.extensions.filters.network.kafka_mesh.v3alpha.KafkaMesh", fields: oks(
		"advertised_host", "advertised_port", "upstream_clusters", "forwarding_rules")},
	{name: "envoy.extensions.filters.network.kafka_mesh.v3alpha.KafkaClusterDefinition", fields: []field{
		ok("cluster_name"), ok("bootstrap_servers"), ok("partition_count"),
		okNote("producer_config", "client.id and request.timeout.ms apply"),
		ignored("consumer_config", "sluice's mesh fetches with its own consumer settings"),
	}},
	{name: "envoy.extensions.filters.network.kafka_mesh.v3alpha.ForwardingRule", fields: oks("target_cluster", "topic_prefix")},
}

func redisSettings(t *translator, m protoreflect.Message, env, slu string) any {
	out := t.copyFields(m, specs[m.Descriptor().FullName()], env, slu)
	lower(out, "read_policy")
	return out
}

// lowerFields copies a message and lower-cases the named enum fields.
func lowerFields(names ...string) func(t *translator, m protoreflect.Message, env, slu string) any {
	return func(t *translator, m protoreflect.Message, env, slu string) any {
		out := t.copyFields(m, specs[m.Descriptor().FullName()], env, slu)
		for _, n := range names {
			lower(out, n)
		}
		return out
	}
}

// rbacSpecs: the network RBAC filter and its policy vocabulary.
var rbacSpecs = []message{
	{name: "envoy.extensions.filters.network.rbac.v3.RBAC", fields: oks(
		"stat_prefix", "rules", "shadow_rules", "shadow_rules_stat_prefix")},
	{name: "envoy.config.rbac.v3.RBAC", fields: oks("action", "policies")},
	{name: "envoy.config.rbac.v3.Policy", fields: oks("permissions", "principals")},
	{name: "envoy.config.rbac.v3.Permission", fields: []field{
		ok("any"), ok("destination_port"), ok("destination_ip"), ok("requested_server_name"), ok("and_rules"), ok("or_rules"), ok("not_rule"),
		okNote("metadata", "request observers' metadata (zookeeper_proxy), judged per request; a refusal is answered in-band (NOAUTH)")}},
	{name: "envoy.config.rbac.v3.Permission.Set", fields: oks("rules")},
	{name: "envoy.config.rbac.v3.Principal", fields: oks(
		"any", "source_ip", "direct_remote_ip", "remote_ip", "authenticated", "and_ids", "or_ids", "not_id")},
	{name: "envoy.config.rbac.v3.Principal.Set", fields: oks("ids")},
	{name: "envoy.config.rbac.v3.Principal.Authenticated", fields: oks("principal_name")},
	{name: "envoy.type.matcher.v3.StringMatcher", fields: oks("exact", "prefix", "suffix", "contains", "safe_regex", "ignore_case")},
	{name: "envoy.type.matcher.v3.RegexMatcher", fields: []field{
		ok("regex"), ignored("google_re2", "sluice's regexes are Go's RE2"),
	}},
}
