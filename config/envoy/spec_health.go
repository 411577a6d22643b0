package envoy

import (
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/sluice-proxy/sluice/config"
)

// healthSpecs: active health checks.
var healthSpecs = []message{
	{name: "envoy.config.core.v3.HealthCheck", fields: []field{
		ok("timeout"), ok("interval"), ok("interval_jitter"), ok("initial_jitter"),
		ok("unhealthy_threshold"), ok("healthy_threshold"),
		ok("tcp_health_check"), ok("http_health_check"), ok("grpc_health_check"),
		field{name: "custom_health_check", to: "redis_health_check", note: "envoy.health_checkers.redis only"},
		ignored("no_traffic_interval", "sluice checks every interval, with or without traffic"),
		ignored("event_log_path", "sluice logs health transitions to its own log"),
	}},
	{name: "envoy.config.core.v3.HealthCheck.TcpHealthCheck", fields: oks("send", "receive")},
	{name: "envoy.config.core.v3.HealthCheck.Payload", fields: oks("text", "binary")},
	{name: "envoy.config.core.v3.HealthCheck.HttpHealthCheck", fields: oks("host", "path", "expected_statuses")},
	{name: "envoy.type.v3.Int64Range", fields: oks("start", "end")},
	{name: "envoy.config.core.v3.HealthCheck.GrpcHealthCheck", fields: oks("service_name", "authority"),
		note: "h2c; initial_metadata is refused"},
	{name: "envoy.config.core.v3.HealthCheck.CustomHealthCheck", translate: customHealthCheck, fields: []field{
		own("name", "envoy.health_checkers.redis"), own("typed_config", "envoy.extensions.health_checkers.redis.v3.Redis"),
	}},
	{name: "envoy.extensions.health_checkers.redis.v3.Redis", fields: oks("key")},
}

// customHealthCheck accepts the Redis health checker, sluice's only custom
// checker.
func customHealthCheck(t *translator, m protoreflect.Message, env, slu string) any {
	fd := m.Descriptor().Fields().ByName("typed_config")
	if !m.Has(fd) {
		t.errs.Add(config.Join(env, "typed_config"), "required: sluice has the Redis health checker (envoy.extensions.health_checkers.redis.v3.Redis)")
		return nil
	}
	inner, err := unpack(m.Get(fd).Message())
	if err != nil {
		t.errs.Add(config.Join(env, "typed_config"), "%v", err)
		return nil
	}
	if inner.Descriptor().FullName() != "envoy.extensions.health_checkers.redis.v3.Redis" {
		t.errs.Add(config.Join(env, "typed_config.@type"), "%s: not supported by sluice (it has the Redis health checker)", inner.Descriptor().FullName())
		return nil
	}
	return t.message(inner, config.Join(env, "typed_config"), slu)
}
