package envoy

import (
	"fmt"
	"strings"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/sluice-proxy/sluice/config"
)

// bootstrapSpecs: the bootstrap, admin, addresses, listeners and chains.
var bootstrapSpecs = []message{
	{name: "envoy.config.bootstrap.v3.Bootstrap", translate: (*translator).bootstrap, fields: []field{
		own("static_resources", "listeners and clusters"),
		own("admin", "the admin server's address"),
		own("dynamic_resources", "LDS, CDS (and EDS) from a control plane or files: config/xds"),
		own("node", "identifies sluice to its management server (config/xds)"),
		own("layered_runtime", "static layers' envoy.resource_limits.listener.<name>.connection_limit becomes the listener's max_connections; other keys and layers are ignored (spec_runtime.go)"),
	}},
	{name: "envoy.config.bootstrap.v3.Bootstrap.StaticResources", fields: []field{
		own("listeners", ""), own("clusters", ""),
	}},
	{name: "envoy.config.bootstrap.v3.Admin", fields: []field{
		own("address", "socket_address only"),
		ignored("access_log_path", "sluice's admin server writes no access log"),
		ignored("access_log", "sluice's admin server writes no access log"),
		ignored("profile_path", "sluice has no CPU profiler endpoint"),
	}},
	{name: "envoy.config.core.v3.Address", translate: address, fields: []field{own("socket_address", "")},
		note: "becomes sluice's host:port"},
	{name: "envoy.config.core.v3.SocketAddress", fields: []field{
		own("address", ""), own("port_value", ""),
		ignored("ipv4_compat", "the kernel's IPV6_V6ONLY default applies"),
	}},
	{name: "envoy.config.listener.v3.Listener", translate: listener, fields: []field{
		okNote("name", "an unnamed listener is named listener_<index>"), ok("address"), ok("filter_chains"),
		ok("listener_filters_timeout"), ok("continue_on_listener_filters_timeout"),
		okNote("listener_filters", "tls_inspector, http_inspector, proxy_protocol, original_dst (spec_listener.go); without tls_inspector sluice still reads the ClientHello when a chain matches on SNI, ALPN or transport or terminates TLS"),
		ok("default_filter_chain"),
		ignored("traffic_direction", "no effect on a proxy without HTTP"),
	}},
	{name: "envoy.config.listener.v3.FilterChain", fields: []field{
		ok("name"), as("filter_chain_match", "match"), ok("filters"), ok("transport_socket_connect_timeout"),
		field{name: "transport_socket", to: "tls", note: "TLS termination: DownstreamTlsContext"},
	}},
	{name: "envoy.config.listener.v3.Filter", translate: (*translator).filter, fields: []field{
		own("name", "free text: sluice picks the filter by typed_config's @type"),
		own("typed_config", "one of the filter types below"),
	}},
}

func (t *translator) bootstrap(m protoreflect.Message, env, slu string) any {
	out := map[string]any{}
	get := func(m protoreflect.Message, name string) (protoreflect.Message, bool) {
		fd := m.Descriptor().Fields().ByName(protoreflect.Name(name))
		return m.Get(fd).Message(), m.Has(fd)
	}
	if adm, ok := get(m, "admin"); ok {
		if a, ok := get(adm, "address"); ok {
			out["admin"] = map[string]any{"address": t.message(a, "admin.address", "admin.address")}
		}
	}
	if sr, ok := get(m, "static_resources"); ok {
		for _, key := range []string{"listeners", "clusters"} {
			fd := sr.Descriptor().Fields().ByName(protoreflect.Name(key))
			if sr.Has(fd) {
				out[key] = t.fieldValue(sr, fd, "static_resources."+key, key)
			}
		}
	}
	if lr, ok := get(m, "layered_runtime"); ok {
		t.runtimeLimits(lr, out)
	}
	return out
}

// address renders an Address as "host:port".
func address(t *translator, m protoreflect.Message, env, slu string) any {
	fd := m.Descriptor().Fields().ByName("socket_address")
	if !m.Has(fd) {
		t.errs.Add(env, "socket_address is required: sluice listens and connects over TCP only")
		return ""
	}
	sa := m.Get(fd).Message()
	host := sa.Get(sa.Descriptor().Fields().ByName("address")).String()
	port := sa.Get(sa.Descriptor().Fields().ByName("port_value")).Uint()
	if ip := parseIP(host); ip != nil && ip.To4() == nil {
		host = "[" + host + "]"
	}
	return fmt.Sprintf("%s:%d", host, port)
}

// filter renders a Filter as sluice's {<filter name>: config}.
func (t *translator) filter(m protoreflect.Message, env, slu string) any {
	fd := m.Descriptor().Fields().ByName("typed_config")
	if !m.Has(fd) {
		t.errs.Add(config.Join(env, "typed_config"), "required: sluice picks the filter by its @type")
		return nil
	}
	inner, err := unpack(m.Get(fd).Message())
	if err != nil {
		t.errs.Add(config.Join(env, "typed_config"), "%v", err)
		return nil
	}
	name, ok := filterNames[inner.Descriptor().FullName()]
	if !ok {
		t.errs.Add(config.Join(env, "typed_config.@type"), "%s is not a network filter sluice has", inner.Descriptor().FullName())
		return nil
	}
	t.paths[slu] = env
	return map[string]any{name: t.message(inner, config.Join(env, "typed_config"), config.Join(slu, name))}
}

// listener copies a Listener; one without a name gets "listener_<index>"
// (sluice needs a name to keep a listener across reloads; Envoy makes up a
// UUID).
func listener(t *translator, m protoreflect.Message, env, slu string) any {
	out := t.copyFields(m, specs[m.Descriptor().FullName()], env, slu)
	if out["name"] == nil || out["name"] == "" {
		out["name"] = "listener_" + slu[strings.LastIndexByte(slu, '[')+1:len(slu)-1]
	}
	return out
}
