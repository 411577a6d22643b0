package envoy

import (
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/sluice-proxy/sluice/config"
)

// upstreamSpecs: a cluster's transport_socket (the PROXY protocol socket).
var upstreamSpecs = []message{
	{name: "envoy.extensions.transport_sockets.proxy_protocol.v3.ProxyProtocolUpstreamTransport", fields: []field{
		own("config", "version and pass_through_tlvs"),
		own("transport_socket", "raw_buffer only"),
	}},
	{name: "envoy.config.core.v3.ProxyProtocolConfig", fields: oks("version", "pass_through_tlvs")},
	{name: "envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer", fields: nil},
}

// upstreamTransport reads a cluster's transport_socket into out:
// ProxyProtocolUpstreamTransport becomes sluice's upstream_proxy_protocol;
// its inner socket must be raw_buffer (or absent).
func (t *translator) upstreamTransport(m protoreflect.Message, env, slu string, out map[string]any) {
	fd := m.Descriptor().Fields().ByName("typed_config")
	tc := config.Join(env, "typed_config")
	if !m.Has(fd) {
		t.errs.Add(tc, "required: sluice picks the transport socket by its @type")
		return
	}
	inner, err := unpack(m.Get(fd).Message())
	if err != nil {
		t.errs.Add(tc, "%v", err)
		return
	}
	switch inner.Descriptor().FullName() {
	case "envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer":
		return
	case "envoy.extensions.transport_sockets.proxy_protocol.v3.ProxyProtocolUpstreamTransport":
	default:
		t.errs.Add(config.Join(tc, "@type"), "%s: not supported by sluice on a cluster (it has upstream_proxy_protocol and raw_buffer)", inner.Descriptor().FullName())
		return
	}
	fds := inner.Descriptor().Fields()
	pp := map[string]any{}
	if c := fds.ByName("config"); inner.Has(c) {
		pp, _ = t.message(inner.Get(c).Message(), config.Join(tc, "config"), config.Join(slu, "upstream_proxy_protocol")).(map[string]any)
	}
	t.paths[config.Join(slu, "upstream_proxy_protocol")] = config.Join(tc, "config")
	out["upstream_proxy_protocol"] = pp
	if ts := fds.ByName("transport_socket"); inner.Has(ts) {
		t.upstreamTransportInner(inner.Get(ts).Message(), config.Join(tc, "transport_socket"))
	}
}

// upstreamTransportInner accepts raw_buffer inside the PROXY socket.
func (t *translator) upstreamTransportInner(m protoreflect.Message, env string) {
	fd := m.Descriptor().Fields().ByName("typed_config")
	if !m.Has(fd) {
		return // a name alone: raw_buffer is the default
	}
	inner, err := unpack(m.Get(fd).Message())
	if err != nil {
		t.errs.Add(config.Join(env, "typed_config"), "%v", err)
		return
	}
	if inner.Descriptor().FullName() != "envoy.extensions.transport_sockets.raw_buffer.v3.RawBuffer" {
		t.errs.Add(config.Join(env, "typed_config.@type"), "%s: not supported by sluice inside upstream_proxy_protocol (raw_buffer only)", inner.Descriptor().FullName())
	}
}
