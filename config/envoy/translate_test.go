package envoy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-proxy/sluice/cluster/lb"
	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/filters/kafkabroker"
	"github.com/sluice-proxy/sluice/filters/kafkamesh"
	"github.com/sluice-proxy/sluice/filters/mysql"
	"github.com/sluice-proxy/sluice/filters/postgres"
	"github.com/sluice-proxy/sluice/filters/rbac"
	"github.com/sluice-proxy/sluice/filters/redis"
	"github.com/sluice-proxy/sluice/filters/tcpproxy"
)

// tcpListener exercises a listener with a chain match and tcp_proxy, and
// clusters with every block sluice translates.
const tcpListener = `
admin: {address: {socket_address: {address: 127.0.0.1, port_value: 9901}}}
static_resources:
  listeners:
  - address: {socket_address: {address: "::1", port_value: 10000}}
    listener_filters_timeout: 2s
    filter_chains:
    - filter_chain_match:
        server_names: [db.example.com]
        transport_protocol: tls
        source_prefix_ranges: [{address_prefix: 10.0.0.0, prefix_len: 8}, {address_prefix: 192.168.1.1}]
        destination_port: 10000
      filters:
      - name: tcp
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy
          stat_prefix: front
          weighted_clusters: {clusters: [{name: a, weight: 3}, {name: b, weight: 1}]}
          idle_timeout: 0.5s
          max_connect_attempts: 3
          hash_policy: [{source_ip: {}}]
  clusters:
  - name: a
    type: STATIC
    connect_timeout: 0.25s
    lb_policy: MAGLEV
    maglev_lb_config: {table_size: 65537}
    common_lb_config: {healthy_panic_threshold: {value: 25}}
    load_assignment:
      cluster_name: a
      endpoints:
      - lb_endpoints:
        - endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 7001}}}
          load_balancing_weight: 5
        - endpoint: {address: {socket_address: {address: 127.0.0.2, port_value: 7002}}}
      - lb_endpoints:
        - endpoint: {address: {socket_address: {address: 127.0.0.3, port_value: 7003}}}
    outlier_detection: {consecutive_5xx: 3, base_ejection_time: 10s, max_ejection_percent: 50}
    circuit_breakers: {thresholds: [{priority: HIGH, max_connections: 10, max_retries: 1}]}
    health_checks:
    - timeout: 1s
      interval: 5s
      unhealthy_threshold: 2
      healthy_threshold: 1
      tcp_health_check: {send: {text: "50494e47"}, receive: [{text: "504f4e47"}]}
  - name: b
    type: logical_dns
    dns_lookup_family: V4_ONLY
    lb_policy: least_request
    least_request_lb_config: {choice_count: 3, active_request_bias: {default_value: 0.5, runtime_key: x}}
    health_checks:
    - timeout: 1s
      interval: 5s
      unhealthy_threshold: 2
      healthy_threshold: 1
      http_health_check: {path: /healthz, expected_statuses: [{start: 200, end: 300}]}
    load_assignment:
      cluster_name: b
      endpoints:
      - lb_endpoints:
        - endpoint: {address: {socket_address: {address: localhost, port_value: 7004}}}
`

// TestTranslateListenerAndClusters: tcpListener lands in sluice's model
// field by field, and only the ignored fields warn.
func TestTranslateListenerAndClusters(t *testing.T) {
	cfg, warns := parse(t, tcpListener)
	if cfg.Admin.Address != "127.0.0.1:9901" {
		t.Errorf("admin address = %q", cfg.Admin.Address)
	}
	l := cfg.Listeners[0]
	if l.Name != "listener_0" || l.Address != "[::1]:10000" || l.ListenerFiltersTimeout.D().String() != "2s" {
		t.Errorf("listener = %q %q %v", l.Name, l.Address, l.ListenerFiltersTimeout.D())
	}
	m := l.FilterChains[0].Match
	if strings.Join(m.ServerNames, ",") != "db.example.com" || m.TransportProtocol != "tls" || m.DestinationPort != 10000 ||
		strings.Join(m.SourcePrefixes, ",") != "10.0.0.0/8,192.168.1.1" {
		t.Errorf("match = %+v", m)
	}
	f := l.FilterChains[0].Filters[0]
	tp, ok := f.Config.(*tcpproxy.Config)
	if f.Name != "tcp_proxy" || !ok {
		t.Fatalf("filter = %s %T", f.Name, f.Config)
	}
	if tp.StatPrefix != "front" || tp.IdleTimeout.D().String() != "500ms" || tp.MaxConnectAttempts != 3 ||
		len(tp.WeightedClusters.Clusters) != 2 || tp.WeightedClusters.Clusters[0].Weight != 3 ||
		len(tp.HashPolicy) != 1 || tp.HashPolicy[0].SourceIP == nil {
		t.Errorf("tcp_proxy = %+v", tp)
	}
	a := cfg.Cluster("a")
	if a.Type != "static" || a.LBPolicy != "maglev" || a.ConnectTimeout.D().String() != "250ms" || a.HealthyPanicThreshold != 25 {
		t.Errorf("cluster a = %s", a)
	}
	if mc, ok := a.LBConfig().(*lb.MaglevConfig); !ok || mc.TableSize != 65537 {
		t.Errorf("maglev config = %#v", a.LBConfig())
	}
	if len(a.Endpoints) != 3 || a.Endpoints[0].Address != "127.0.0.1:7001" || a.Endpoints[0].Weight != 5 ||
		a.Endpoints[1].Weight != 1 || a.Endpoints[2].Address != "127.0.0.3:7003" {
		t.Errorf("endpoints = %+v", a.Endpoints)
	}
	if o := a.OutlierDetection; o == nil || o.Consecutive5xx != 3 || o.BaseEjectionTime.D().String() != "10s" || o.MaxEjectionPercent != 50 {
		t.Errorf("outlier_detection = %+v", o)
	}
	if th := a.CircuitBreakers.For("HIGH"); th.MaxConnections != 10 || th.MaxRetries != 1 {
		t.Errorf("circuit breaker HIGH = %+v", th)
	}
	if h := a.HealthChecks[0]; h.TCPHealthCheck == nil || string(h.TCPHealthCheck.Send.Bytes()) != "PING" || h.Kind() != "tcp" {
		t.Errorf("health check = %+v", h)
	}
	b := cfg.Cluster("b")
	if b.Type != "logical_dns" || b.LBPolicy != "least_request" || b.Endpoints[0].Address != "localhost:7004" {
		t.Errorf("cluster b = %s", b)
	}
	if lr, ok := b.LBConfig().(*lb.LeastRequestConfig); !ok || lr.ChoiceCount != 3 || lr.ActiveRequestBias != 0.5 {
		t.Errorf("least_request config = %#v", b.LBConfig())
	}
	if h := b.HealthChecks[0].HTTPHealthCheck; h == nil || h.Path != "/healthz" || !h.Expects(204) || h.Expects(300) {
		t.Errorf("http health check = %+v", h)
	}
	want := []string{
		"static_resources.clusters[1].dns_lookup_family: accepted and ignored by sluice",
		"static_resources.clusters[1].least_request_lb_config.active_request_bias.runtime_key: accepted and ignored by sluice",
	}
	if len(warns) != len(want) {
		t.Fatalf("warnings = %q", warns)
	}
	for i, w := range want {
		if !strings.HasPrefix(warns[i], w) {
			t.Errorf("warning %d = %q, want %q...", i, warns[i], w)
		}
	}
}

// TestTranslateRedisProxy: redis_proxy's settings, routes, mirrors and
// password, and the Redis health checker.
func TestTranslateRedisProxy(t *testing.T) {
	cfg, _ := parse(t, `
static_resources:
  listeners:
  - name: redis
    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.redis_proxy
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.redis_proxy.v3.RedisProxy
          stat_prefix: egress_redis
          settings: {op_timeout: 5s, enable_hashtagging: true, read_policy: PREFER_REPLICA, enable_command_stats: true}
          downstream_auth_password: {inline_string: secret}
          prefix_routes:
            case_insensitive: true
            routes:
            - prefix: "user:"
              remove_prefix: true
              cluster: users
              request_mirror_policy: [{cluster: shadow, exclude_read_commands: true}]
            catch_all_route: {cluster: users}
  clusters:
  - {name: users, lb_policy: RING_HASH, load_assignment: {cluster_name: users, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 6379}}}}]}]},
     health_checks: [{timeout: 1s, interval: 3s, unhealthy_threshold: 1, healthy_threshold: 1,
       custom_health_check: {name: envoy.health_checkers.redis, typed_config: {"@type": type.googleapis.com/envoy.extensions.health_checkers.redis.v3.Redis, key: probe}}}]}
  - {name: shadow, lb_policy: MAGLEV, load_assignment: {cluster_name: shadow, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 6380}}}}]}]}}
`)
	rc := cfg.Listeners[0].FilterChains[0].Filters[0].Config.(*redis.Config)
	if rc.StatPrefix != "egress_redis" || rc.Settings.OpTimeout.D().String() != "5s" || !rc.Settings.EnableHashtagging ||
		rc.Settings.ReadPolicy != "prefer_replica" || !rc.Settings.EnableCommandStats || rc.DownstreamAuthPassword != "secret" {
		t.Errorf("redis_proxy = %+v", rc)
	}
	r := rc.PrefixRoutes
	if !r.CaseInsensitive || len(r.Routes) != 1 || r.Routes[0].Prefix != "user:" || !r.Routes[0].RemovePrefix ||
		r.Routes[0].RequestMirrorPolicy[0].Cluster != "shadow" || !r.Routes[0].RequestMirrorPolicy[0].ExcludeReadCommands ||
		r.CatchAllRoute == nil || r.CatchAllRoute.Cluster != "users" {
		t.Errorf("prefix_routes = %+v", r)
	}
	if h := cfg.Cluster("users").HealthChecks[0]; h.RedisHealthCheck == nil || h.RedisHealthCheck.Key != "probe" {
		t.Errorf("redis health check = %+v", h)
	}
}

// TestDataSources: a redis_proxy password from the environment and from a
// file, and a missing variable refused at its path.
func TestDataSources(t *testing.T) {
	t.Setenv("SLUICE_TEST_REDIS_PW", "from-env")
	pwFile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwFile, []byte("from-file"), 0o600)
	cfgFor := func(ds string) string {
		return `
static_resources:
  listeners:
  - name: r
    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
    filter_chains:
    - filters:
      - name: r
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.redis_proxy.v3.RedisProxy
          stat_prefix: r
          settings: {op_timeout: 1s}
          prefix_routes: {catch_all_route: {cluster: c}}
          downstream_auth_password: ` + ds + `
  clusters:
  - {name: c, load_assignment: {cluster_name: c, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 6379}}}}]}]}}
`
	}
	for _, tc := range []struct{ ds, want string }{
		{"{environment_variable: SLUICE_TEST_REDIS_PW}", "from-env"},
		{"{filename: " + pwFile + "}", "from-file"},
		{"{inline_string: inline}", "inline"},
	} {
		cfg, _ := parse(t, cfgFor(tc.ds))
		if got := cfg.Listeners[0].FilterChains[0].Filters[0].Config.(*redis.Config).DownstreamAuthPassword; got != tc.want {
			t.Errorf("%s: password %q, want %q", tc.ds, got, tc.want)
		}
	}
	_, _, err := Parse("e.yaml", []byte(cfgFor("{environment_variable: SLUICE_TEST_UNSET_VARIABLE}")))
	want := "e.yaml: static_resources.listeners[0].filter_chains[0].filters[0].typed_config.downstream_auth_password.environment_variable: SLUICE_TEST_UNSET_VARIABLE is not set"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
}

// TestListenerFilters: tls_inspector and proxy_protocol are accepted; a
// listener filter sluice lacks (original_src) is refused. (Before listener
// filters were built, proxy_protocol was the refused example.)
func TestListenerFilters(t *testing.T) {
	cfg := func(lf string) string {
		return `
static_resources:
  listeners:
  - name: l
    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
    listener_filters: [` + lf + `]
    filter_chains: [{filters: [{name: t, typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: s, cluster: c}}]}]
  clusters:
  - {name: c, load_assignment: {cluster_name: c, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 1}}}}]}]}}
`
	}
	if _, warns := parse(t, cfg(`{name: envoy.filters.listener.tls_inspector, typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector}}`)); len(warns) != 0 {
		t.Errorf("warnings %q", warns)
	}
	if _, warns := parse(t, cfg(`{name: envoy.filters.listener.proxy_protocol, typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol}}`)); len(warns) != 0 {
		t.Errorf("warnings %q", warns)
	}
	_, _, err := Parse("e.yaml", []byte(cfg(`{name: envoy.filters.listener.original_src, typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.listener.original_src.v3.OriginalSrc}}`)))
	if err == nil || !strings.Contains(err.Error(), "static_resources.listeners[0].listener_filters[0].typed_config.@type: unknown @type") {
		t.Fatalf("original_src: %v", err)
	}
}

// TestTranslateObserversAndGates: postgres_proxy, mysql_proxy, rbac,
// kafka_broker and kafka_mesh typed configs become sluice's filters with
// their fields.
func TestTranslateObserversAndGates(t *testing.T) {
	cfg, warns := parse(t, `
static_resources:
  listeners:
  - name: pg
    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
    filter_chains:
    - filters:
      - name: rbac
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.rbac.v3.RBAC
          stat_prefix: gate
          shadow_rules_stat_prefix: sh_
          rules:
            action: DENY
            policies:
              outsiders:
                permissions: [{and_rules: {rules: [{destination_port: 5432}, {not_rule: {requested_server_name: {exact: internal}}}]}}]
                principals: [{remote_ip: {address_prefix: 10.0.0.0, prefix_len: 8}}, {not_id: {any: true}}]
      - name: pg
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.postgres_proxy.v3alpha.PostgresProxy
          stat_prefix: egress_postgres
          enable_sql_parsing: false
          upstream_ssl: REQUIRE
      - name: tcp
        typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: pg, cluster: c}
  - name: my
    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
    filter_chains:
    - filters:
      - name: my
        typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.network.mysql_proxy.v3.MySQLProxy, stat_prefix: egress_mysql, access_log: /dev/null}
      - name: tcp
        typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: my, cluster: c}
  - name: kb
    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
    filter_chains:
    - filters:
      - name: kb
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.kafka_broker.v3.KafkaBroker
          stat_prefix: broker
          force_response_rewrite: true
          id_based_broker_address_rewrite_spec: {rules: [{id: 1, host: 127.0.0.1, port: 19092}]}
          api_keys_denied: [21]
      - name: tcp
        typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy, stat_prefix: kb, cluster: c}
  - name: km
    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
    filter_chains:
    - filters:
      - name: km
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.kafka_mesh.v3alpha.KafkaMesh
          advertised_host: 127.0.0.1
          advertised_port: 19092
          upstream_clusters:
          - {cluster_name: k1, bootstrap_servers: "127.0.0.1:9092", partition_count: 3, producer_config: {client.id: mesh}}
          forwarding_rules: [{target_cluster: k1, topic_prefix: app}]
  clusters:
  - {name: c, load_assignment: {cluster_name: c, endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: 1}}}}]}]}}
`)
	chain := func(l int) []config.FilterSpec { return cfg.Listeners[l].FilterChains[0].Filters }
	rb := chain(0)[0].Config.(*rbac.Config)
	pol := rb.Rules.Policies["outsiders"]
	if rb.StatPrefix != "gate" || rb.ShadowRulesStatPrefix != "sh_" || rb.Rules.Action != "DENY" || pol == nil ||
		len(pol.Permissions[0].AndRules.Rules) != 2 || pol.Permissions[0].AndRules.Rules[0].DestinationPort != 5432 ||
		*pol.Permissions[0].AndRules.Rules[1].NotRule.RequestedServerName.Exact != "internal" ||
		pol.Principals[0].RemoteIP.AddressPrefix != "10.0.0.0" || *pol.Principals[0].RemoteIP.PrefixLen != 8 || !pol.Principals[1].NotID.Any {
		t.Errorf("rbac = %+v, policy %+v", rb, pol)
	}
	pg := chain(0)[1].Config.(*postgres.Config)
	if pg.StatPrefix != "egress_postgres" || pg.EnableSQLParsing == nil || *pg.EnableSQLParsing || pg.UpstreamSSL != "require" {
		t.Errorf("postgres_proxy = %+v", pg)
	}
	if my := chain(1)[0].Config.(*mysql.Config); my.StatPrefix != "egress_mysql" {
		t.Errorf("mysql_proxy = %+v", my)
	}
	kb := chain(2)[0].Config.(*kafkabroker.Config)
	if kb.StatPrefix != "broker" || !kb.ForceResponseRewrite || len(kb.IDBasedBrokerAddressRewriteSpec.Rules) != 1 ||
		kb.IDBasedBrokerAddressRewriteSpec.Rules[0].Port != 19092 || len(kb.APIKeysDenied) != 1 || kb.APIKeysDenied[0] != 21 {
		t.Errorf("kafka_broker = %+v", kb)
	}
	km := chain(3)[0].Config.(*kafkamesh.Config)
	if km.AdvertisedPort != 19092 || len(km.UpstreamClusters) != 1 || km.UpstreamClusters[0].PartitionCount != 3 ||
		km.UpstreamClusters[0].ProducerConfig["client.id"] != "mesh" || km.ForwardingRules[0].TopicPrefix != "app" {
		t.Errorf("kafka_mesh = %+v", km)
	}
	if len(warns) != 1 || !strings.HasPrefix(warns[0], "static_resources.listeners[1].filter_chains[0].filters[0].typed_config.access_log: accepted and ignored") {
		t.Errorf("warnings = %q", warns)
	}
}

// TestJSONBootstrap: a JSON bootstrap in protojson's camelCase names loads
// like YAML, and its problems are named with the proto field names.
func TestJSONBootstrap(t *testing.T) {
	js := `{"staticResources": {
  "listeners": [{"name": "l", "address": {"socketAddress": {"address": "127.0.0.1", "portValue": 0}},
    "filterChains": [{"filters": [{"name": "t", "typedConfig": {
      "@type": "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy",
      "statPrefix": "s", "cluster": "c", "idleTimeout": "30s"}}]}]}],
  "clusters": [{"name": "c", "connectTimeout": "2s", "lbPolicy": "LEAST_REQUEST",
    "loadAssignment": {"clusterName": "c", "endpoints": [{"lbEndpoints": [
      {"endpoint": {"address": {"socketAddress": {"address": "127.0.0.1", "portValue": 1}}}, "loadBalancingWeight": 2}]}]}}]}}`
	cfg, _ := parse(t, js)
	tp := cfg.Listeners[0].FilterChains[0].Filters[0].Config.(*tcpproxy.Config)
	if tp.IdleTimeout.D().String() != "30s" || cfg.Clusters[0].LBPolicy != "least_request" || cfg.Clusters[0].Endpoints[0].Weight != 2 {
		t.Errorf("tcp_proxy %+v, cluster %s", tp, &cfg.Clusters[0])
	}
	_, _, err := Parse("e.json", []byte(strings.Replace(js, `"connectTimeout": "2s"`, `"connectTimeout": "2s", "lbPolicyy": 1`, 1)))
	if err == nil || err.Error() != `e.json: static_resources.clusters[0].lbPolicyy: unknown field "lbPolicyy" in envoy.config.cluster.v3.Cluster` {
		t.Fatalf("got %v", err)
	}
}
