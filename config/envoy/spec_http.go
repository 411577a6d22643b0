package envoy

import (
	"fmt"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/sluice-proxy/sluice/config"

	// The typed_config types of http_connection_manager, its router and
	// its access loggers.
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/file/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/access_loggers/stream/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
)

const hcmMessage = "envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"

// httpFilterNames maps each HTTP filter typed_config sluice has to the
// filter's name in http_filters.
var httpFilterNames = map[protoreflect.FullName]string{
	"envoy.extensions.filters.http.router.v3.Router": "router",
}

// httpSpecs: http_connection_manager, its HTTP filters, protocol options and
// access logs.
var httpSpecs = []message{
	{name: hcmMessage, fields: []field{
		ok("stat_prefix"), okNote("codec_type", "AUTO, HTTP1, HTTP2"), ok("route_config"), ok("http_filters"),
		ok("server_name"), ok("use_remote_address"), ok("xff_num_trusted_hops"), ok("generate_request_id"),
		ok("preserve_external_request_id"), ok("stream_idle_timeout"), ok("request_timeout"),
		ok("request_headers_timeout"), ok("max_request_headers_kb"), ok("common_http_protocol_options"),
		ok("http_protocol_options"), ok("http2_protocol_options"), ok("access_log"),
		okNote("tracing", "OpenTelemetry provider (spec_tracing.go)"),
		ok("strip_any_host_port"), ok("strip_matching_host_port"), ok("always_set_request_id_in_response"),
		okNote("via", "on requests and upstream responses"), ok("server_header_transformation"),
		okNote("upgrade_configs", "the upgrade types allowed; a route's upgrade_configs entry overrides enabled"),
		ignored("drain_timeout", "a draining connection closes after its in-flight request (HTTP/1.1) or after GOAWAY (HTTP/2)"),
		ignored("delayed_close_timeout", "sluice closes after the last write"),
		okNote("normalize_path", "RFC 3986: unreserved characters decoded, dot segments removed"),
		ok("merge_slashes"), ok("skip_xff_append"),
		ignored("access_log_options", "lines are written when the request ends"),
		ignored("proxy_100_continue", "sluice answers 100-continue itself"),
	}},
	{name: hcmMessage + ".UpgradeConfig", fields: []field{ok("upgrade_type"), ok("enabled")},
		note: "per-upgrade filters are refused"},
	{name: "envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter", translate: httpFilter, fields: []field{
		ok("name"), own("typed_config", "the HTTP filters sluice has: router, jwt_authn, rbac, aws_request_signing, aws_lambda, dynamo"),
		ignored("is_optional", "every filter sluice has is known"),
	}},
	{name: "envoy.extensions.filters.http.router.v3.Router", fields: []field{
		ok("suppress_envoy_headers"),
		ignored("dynamic_stats", "always on"), okNote("start_child_span", "as tracing.spawn_upstream_span"),
	}},
	// envoy.config.core.v3.HttpProtocolOptions, Http1ProtocolOptions and
	// Http2ProtocolOptions are shared with the clusters' protocol options:
	// their tables are in spec_upstream_http.go.
	{name: "envoy.config.accesslog.v3.AccessLog", translate: accessLog, fields: []field{
		ok("name"), own("typed_config", "file (path, log_format) and stdout/stderr loggers"),
	}},
	{name: "envoy.extensions.access_loggers.file.v3.FileAccessLog", fields: []field{ok("path"), own("log_format", "text_format_source and json_format")}},
	{name: "envoy.extensions.access_loggers.stream.v3.StdoutAccessLog", fields: []field{own("log_format", "text_format_source and json_format")}},
	{name: "envoy.extensions.access_loggers.stream.v3.StderrAccessLog", fields: []field{own("log_format", "text_format_source and json_format")}},
	{name: "envoy.config.core.v3.SubstitutionFormatString", fields: []field{
		ok("text_format_source"), ok("json_format"), ok("text_format"),
		ignored("omit_empty_values", "sluice writes '-' or null as Envoy does by default"),
		ignored("content_type", "access logs only"),
	}},
}

// httpFilter renders an HttpFilter as sluice's {<name>: config}.
func httpFilter(t *translator, m protoreflect.Message, env, slu string) any {
	fd := m.Descriptor().Fields().ByName("typed_config")
	if !m.Has(fd) {
		// Envoy finds a filter by name too; sluice needs the type.
		name := m.Get(m.Descriptor().Fields().ByName("name")).String()
		if name == "envoy.filters.http.router" {
			t.paths[slu] = env
			return map[string]any{"router": map[string]any{}}
		}
		t.errs.Add(config.Join(env, "typed_config"), "required: sluice picks the HTTP filter by its @type")
		return nil
	}
	inner, err := unpack(m.Get(fd).Message())
	if err != nil {
		t.errs.Add(config.Join(env, "typed_config"), "%v", err)
		return nil
	}
	name, ok := httpFilterNames[inner.Descriptor().FullName()]
	if !ok {
		t.errs.Add(config.Join(env, "typed_config.@type"), "%s is not an HTTP filter sluice has", inner.Descriptor().FullName())
		return nil
	}
	t.paths[slu] = env
	return map[string]any{name: t.message(inner, config.Join(env, "typed_config"), config.Join(slu, name))}
}

// accessLog renders an AccessLog as sluice's {path, format | json_format}.
func accessLog(t *translator, m protoreflect.Message, env, slu string) any {
	t.paths[slu] = env
	fd := m.Descriptor().Fields().ByName("typed_config")
	if !m.Has(fd) {
		t.errs.Add(config.Join(env, "typed_config"), "required: a file, stdout or stderr access logger")
		return nil
	}
	inner, err := unpack(m.Get(fd).Message())
	if err != nil {
		t.errs.Add(config.Join(env, "typed_config"), "%v", err)
		return nil
	}
	out := map[string]any{}
	ifs := inner.Descriptor().Fields()
	switch inner.Descriptor().FullName() {
	case "envoy.extensions.access_loggers.file.v3.FileAccessLog":
		out["path"] = inner.Get(ifs.ByName("path")).String()
	case "envoy.extensions.access_loggers.stream.v3.StdoutAccessLog":
		out["path"] = "/dev/stdout"
	case "envoy.extensions.access_loggers.stream.v3.StderrAccessLog":
		out["path"] = "/dev/stderr"
	default:
		t.errs.Add(config.Join(env, "typed_config.@type"), "%s is not an access logger sluice has", inner.Descriptor().FullName())
		return nil
	}
	if lf := ifs.ByName("log_format"); lf != nil && inner.Has(lf) {
		t.logFormat(inner.Get(lf).Message(), config.Join(env, "typed_config.log_format"), out)
	}
	return out
}

// logFormat copies a SubstitutionFormatString into out.
func (t *translator) logFormat(m protoreflect.Message, env string, out map[string]any) {
	fds := m.Descriptor().Fields()
	switch {
	case m.Has(fds.ByName("text_format_source")):
		out["format"] = dataSource(t, m.Get(fds.ByName("text_format_source")).Message(), config.Join(env, "text_format_source"), "")
	case m.Has(fds.ByName("text_format")):
		out["format"] = m.Get(fds.ByName("text_format")).String()
	case m.Has(fds.ByName("json_format")):
		st, _ := m.Get(fds.ByName("json_format")).Message().Interface().(*structpb.Struct)
		jf := map[string]any{}
		for k, v := range st.GetFields() {
			s, ok := v.GetKind().(*structpb.Value_StringValue)
			if !ok {
				t.errs.Add(config.Join(env, "json_format."+k), "sluice takes format strings as json_format values (nested objects are not supported yet)")
				continue
			}
			jf[k] = s.StringValue
		}
		out["json_format"] = jf
	default:
		t.errs.Add(env, "%s", fmt.Sprintf("give text_format_source or json_format"))
	}
}
