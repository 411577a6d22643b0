package config

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Envoy's listener filter names.
const (
	TLSInspector  = "envoy.filters.listener.tls_inspector"
	HTTPInspector = "envoy.filters.listener.http_inspector"
	ProxyProtocol = "envoy.filters.listener.proxy_protocol"
	OriginalDst   = "envoy.filters.listener.original_dst"
)

// listenerFilterTypes maps each listener filter to its typed_config's @type
// and a constructor for its config.
var listenerFilterTypes = map[string]struct {
	typeURL string
	new     func() any
}{
	TLSInspector:  {"type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector", func() any { return &TLSInspectorConfig{} }},
	HTTPInspector: {"type.googleapis.com/envoy.extensions.filters.listener.http_inspector.v3.HttpInspector", func() any { return &EmptyListenerFilterConfig{} }},
	ProxyProtocol: {"type.googleapis.com/envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol", func() any { return &ProxyProtocolConfig{} }},
	OriginalDst:   {"type.googleapis.com/envoy.extensions.filters.listener.original_dst.v3.OriginalDst", func() any { return &EmptyListenerFilterConfig{} }},
}

// ListenerFilter is one of Envoy's listener filters: it runs on an accepted
// connection before a filter chain is chosen, and may read (and, for
// proxy_protocol, consume) its first bytes. TypedConfig holds the config
// type of the filter Name selects.
type ListenerFilter struct {
	Name        string `json:"name"`
	TypedConfig any    `json:"typed_config,omitempty"`
}

// DecodeNode decodes {name, typed_config} with typed_config's type chosen
// by name.
func (f *ListenerFilter) DecodeNode(d *Decoder, path string, n *yaml.Node) {
	if n.Kind != yaml.MappingNode {
		d.fail(path, n, "a listener filter is a mapping with name and typed_config")
		return
	}
	var tc *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "name":
			f.Name = v.Value
		case "typed_config":
			tc = v
		default:
			d.fail(Join(path, k.Value), k, "unknown field (known: name, typed_config)")
		}
	}
	t, ok := listenerFilterTypes[f.Name]
	if !ok {
		d.fail(Join(path, "name"), n, "unknown listener filter %q (known: %s)", f.Name, strings.Join(listenerFilterNames(), ", "))
		return
	}
	f.TypedConfig = t.new()
	if tc != nil {
		d.Decode(Join(path, "typed_config"), tc, f.TypedConfig)
	}
	if at := typeOf(f.TypedConfig); at != "" && at != t.typeURL {
		d.fail(Join(path, "typed_config.@type"), tc, "want %s, got %q", t.typeURL, at)
	}
}

func listenerFilterNames() []string {
	var out []string
	for n := range listenerFilterTypes {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

func typeOf(c any) string {
	switch v := c.(type) {
	case *TLSInspectorConfig:
		return v.Type
	case *EmptyListenerFilterConfig:
		return v.Type
	case *ProxyProtocolConfig:
		return v.Type
	}
	return ""
}

// EmptyListenerFilterConfig is the config of http_inspector and original_dst,
// which have no fields.
type EmptyListenerFilterConfig struct {
	Type string `yaml:"@type" json:"@type,omitempty"`
}

// TLSInspectorConfig is Envoy's TlsInspector.
type TLSInspectorConfig struct {
	Type string `yaml:"@type" json:"@type,omitempty"`
	// CloseConnectionOnClientHelloParsingErrors closes a connection whose
	// first record claims to be a TLS handshake but does not parse, instead
	// of passing it on as plain text. Default false, as in Envoy.
	CloseConnectionOnClientHelloParsingErrors bool `yaml:"close_connection_on_client_hello_parsing_errors" json:"close_connection_on_client_hello_parsing_errors,omitempty"`
}

// ProxyProtocolConfig is Envoy's listener ProxyProtocol: it reads a PROXY
// protocol v1 or v2 header and makes its source the connection's remote
// address (and its destination the local one).
type ProxyProtocolConfig struct {
	Type string `yaml:"@type" json:"@type,omitempty"`
	// Rules expose TLVs of the header as dynamic metadata.
	Rules []ProxyProtocolRule `yaml:"rules" json:"rules,omitempty"`
	// AllowRequestsWithoutProxyProtocol lets a connection without a header
	// through as it is (its bytes replayed). Default false: closed.
	AllowRequestsWithoutProxyProtocol bool `yaml:"allow_requests_without_proxy_protocol" json:"allow_requests_without_proxy_protocol,omitempty"`
	// PassThroughTLVs keeps TLVs for an upstream PROXY header
	// (upstream_proxy_protocol with pass_through_tlvs).
	PassThroughTLVs *PassThroughTLVs `yaml:"pass_through_tlvs" json:"pass_through_tlvs,omitempty"`
	// DisallowedVersions (V1, V2) are refused: the connection is closed.
	DisallowedVersions []string `yaml:"disallowed_versions" json:"disallowed_versions,omitempty"`
	// StatPrefix, when set, puts the stats under proxy_proto.<prefix>.
	StatPrefix string `yaml:"stat_prefix" json:"stat_prefix,omitempty"`
}

// ProxyProtocolRule stores one TLV type's value as metadata.
type ProxyProtocolRule struct {
	TLVType      uint32              `yaml:"tlv_type" json:"tlv_type"`
	OnTLVPresent ProxyProtocolKeyVal `yaml:"on_tlv_present" json:"on_tlv_present"`
}

// ProxyProtocolKeyVal names where a TLV value goes: metadata_namespace
// (default envoy.filters.listener.proxy_protocol) and key.
type ProxyProtocolKeyVal struct {
	MetadataNamespace string `yaml:"metadata_namespace" json:"metadata_namespace,omitempty"`
	Key               string `yaml:"key" json:"key"`
}

// PassThroughTLVs is Envoy's ProxyProtocolPassThroughTLVs: INCLUDE_ALL, or
// INCLUDE the listed types.
type PassThroughTLVs struct {
	MatchType string   `yaml:"match_type" json:"match_type,omitempty"`
	TLVType   []uint32 `yaml:"tlv_type" json:"tlv_type,omitempty"`
}

// Includes reports whether TLV type t is passed through.
func (p *PassThroughTLVs) Includes(t byte) bool {
	if p == nil {
		return false
	}
	if p.MatchType == "" || strings.EqualFold(p.MatchType, "INCLUDE_ALL") {
		return true
	}
	return slices.Contains(p.TLVType, uint32(t))
}

// Validate checks TLV types, keys and versions.
func (c *ProxyProtocolConfig) Validate(path string, errs *Errors) {
	for i, r := range c.Rules {
		p := Index(Join(path, "rules"), i)
		if r.TLVType > 255 {
			errs.Add(Join(p, "tlv_type"), "must be 0..255, got %d", r.TLVType)
		}
		if r.OnTLVPresent.Key == "" {
			errs.Add(Join(p, "on_tlv_present.key"), "required")
		}
	}
	for i, v := range c.DisallowedVersions {
		if !strings.EqualFold(v, "V1") && !strings.EqualFold(v, "V2") {
			errs.Add(Index(Join(path, "disallowed_versions"), i), "must be V1 or V2, got %q", v)
		}
	}
	if pt := c.PassThroughTLVs; pt != nil {
		switch strings.ToUpper(pt.MatchType) {
		case "", "INCLUDE_ALL", "INCLUDE":
		default:
			errs.Add(Join(path, "pass_through_tlvs.match_type"), "must be INCLUDE_ALL or INCLUDE, got %q", pt.MatchType)
		}
		for i, t := range pt.TLVType {
			if t > 255 {
				errs.Add(Index(Join(path, "pass_through_tlvs.tlv_type"), i), "must be 0..255, got %d", t)
			}
		}
	}
}

// Disallowed reports whether PROXY protocol version v (1 or 2) is refused.
func (c *ProxyProtocolConfig) Disallowed(v byte) bool {
	return slices.ContainsFunc(c.DisallowedVersions, func(s string) bool { return strings.EqualFold(s, fmt.Sprintf("V%d", v)) })
}

// checkListenerFilters refuses a listener filter given twice.
func checkListenerFilters(path string, fs []ListenerFilter, errs *Errors) {
	seen := map[string]bool{}
	for i, f := range fs {
		if seen[f.Name] && f.Name != "" {
			errs.Add(Join(Index(Join(path, "listener_filters"), i), "name"), "%s given twice", f.Name)
		}
		seen[f.Name] = true
	}
}
