package envoy

import (
	"fmt"

	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/sluice-proxy/sluice/config"
)

// listenerSpecs: filter chain matching, listener filters and the
// connection-policy network filters.
var listenerSpecs = []message{
	{name: "envoy.config.listener.v3.FilterChainMatch", translate: chainMatch, fields: []field{
		ok("destination_port"), as("prefix_ranges", "destination_prefixes"), ok("server_names"),
		ok("transport_protocol"), ok("application_protocols"),
		as("direct_source_prefix_ranges", "direct_source_prefixes"), ok("source_type"),
		as("source_prefix_ranges", "source_prefixes"), ok("source_ports"),
	}, note: "Envoy's most-specific match order; overlapping chains are refused as in Envoy"},
	{name: "envoy.config.core.v3.CidrRange", fields: oks("address_prefix", "prefix_len")},
	{name: "envoy.config.listener.v3.ListenerFilter", translate: (*translator).listenerFilter, fields: []field{
		own("name", "free text: sluice picks the listener filter by typed_config's @type"),
		own("typed_config", "one of the listener filter types below"),
	}},
	{name: "envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector", fields: []field{
		ok("close_connection_on_client_hello_parsing_errors"),
		ignored("enable_ja3_fingerprinting", "sluice computes no JA3 fingerprint"),
		ignored("enable_ja4_fingerprinting", "sluice computes no JA4 fingerprint"),
		ignored("initial_read_buffer_size", "sluice reads the ClientHello as it comes, up to 64 KiB"),
	}},
	{name: "envoy.extensions.filters.listener.http_inspector.v3.HttpInspector", fields: nil},
	{name: "envoy.extensions.filters.listener.original_dst.v3.OriginalDst", fields: nil,
		note: "SO_ORIGINAL_DST becomes the local address; Envoy's use_original_dst hand-off to another listener is not built"},
	{name: "envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol", fields: oks(
		"rules", "allow_requests_without_proxy_protocol", "pass_through_tlvs", "disallowed_versions", "stat_prefix")},
	{name: "envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol.Rule", fields: oks("tlv_type", "on_tlv_present")},
	{name: "envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol.KeyValuePair", fields: oks("metadata_namespace", "key")},
	{name: "envoy.config.core.v3.ProxyProtocolPassThroughTLVs", fields: oks("match_type", "tlv_type")},

	{name: "envoy.extensions.filters.network.connection_limit.v3.ConnectionLimit", fields: oks(
		"stat_prefix", "max_connections", "delay", "runtime_enabled")},
	{name: "envoy.config.core.v3.RuntimeFeatureFlag", fields: []field{
		okNote("default_value", "decides: sluice has no runtime"), ok("runtime_key"),
	}},
	{name: "envoy.extensions.filters.network.local_ratelimit.v3.LocalRateLimit", fields: oks(
		"stat_prefix", "token_bucket", "runtime_enabled")},
	{name: "envoy.type.v3.TokenBucket", fields: oks("max_tokens", "tokens_per_fill", "fill_interval")},
}

// listenerFilterNames maps each listener filter type to sluice's name.
var listenerFilterNames = map[protoreflect.FullName]string{
	"envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector":   config.TLSInspector,
	"envoy.extensions.filters.listener.http_inspector.v3.HttpInspector": config.HTTPInspector,
	"envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol": config.ProxyProtocol,
	"envoy.extensions.filters.listener.original_dst.v3.OriginalDst":     config.OriginalDst,
}

// listenerFilter renders a ListenerFilter as sluice's {name, typed_config},
// the name chosen by typed_config's @type.
func (t *translator) listenerFilter(m protoreflect.Message, env, slu string) any {
	fd := m.Descriptor().Fields().ByName("typed_config")
	if !m.Has(fd) {
		t.errs.Add(config.Join(env, "typed_config"), "required: sluice picks the listener filter by its @type")
		return nil
	}
	inner, err := unpack(m.Get(fd).Message())
	if err != nil {
		t.errs.Add(config.Join(env, "typed_config"), "%v", err)
		return nil
	}
	name, ok := listenerFilterNames[inner.Descriptor().FullName()]
	if !ok {
		t.errs.Add(config.Join(env, "typed_config.@type"), "%s is not a listener filter sluice has", inner.Descriptor().FullName())
		return nil
	}
	t.paths[slu] = env
	tc, _ := t.message(inner, config.Join(env, "typed_config"), config.Join(slu, "typed_config")).(map[string]any)
	if tc == nil {
		tc = map[string]any{}
	}
	return map[string]any{"name": name, "typed_config": tc}
}

// chainMatch copies a FilterChainMatch, with CIDR ranges as sluice's
// "address/len" strings.
func chainMatch(t *translator, m protoreflect.Message, env, slu string) any {
	out := t.copyFields(m, specs[m.Descriptor().FullName()], env, slu)
	for _, key := range []string{"source_prefixes", "destination_prefixes", "direct_source_prefixes"} {
		l, ok := out[key].([]any)
		if !ok {
			continue
		}
		for i, e := range l {
			r, _ := e.(map[string]any)
			s, _ := r["address_prefix"].(string)
			if n, ok := r["prefix_len"]; ok {
				s = fmt.Sprintf("%s/%v", s, n)
			}
			l[i] = s
		}
	}
	return out
}
