package config

import (
	"fmt"
	"time"
)

// HTTPOptionsType is the key and @type of the cluster's HTTP protocol
// options in typed_extension_protocol_options.
const HTTPOptionsType = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"

// ExtensionProtocolOptions is the cluster's typed_extension_protocol_options,
// keyed by extension name as in Envoy; sluice knows one key, HTTPOptionsType.
type ExtensionProtocolOptions struct {
	// HTTP is envoy.extensions.upstreams.http.v3.HttpProtocolOptions: how
	// sluice's HTTP pools speak to this cluster's hosts.
	HTTP *UpstreamHTTPOptions `yaml:"envoy.extensions.upstreams.http.v3.HttpProtocolOptions" json:"envoy.extensions.upstreams.http.v3.HttpProtocolOptions,omitempty"`
}

// UpstreamHTTPOptions is Envoy's upstreams.http.v3.HttpProtocolOptions. One
// of explicit_http_config, use_downstream_protocol_config and auto_config
// is set; none means HTTP/1.1 (Envoy's default).
type UpstreamHTTPOptions struct {
	// Type is the optional "@type"; when given it must be HTTPOptionsType.
	Type string `yaml:"@type" json:"@type,omitempty"`
	// CommonHTTPProtocolOptions bounds connection lifetimes.
	CommonHTTPProtocolOptions *UpstreamCommonHTTPOptions `yaml:"common_http_protocol_options" json:"common_http_protocol_options,omitempty"`
	// ExplicitHTTPConfig fixes the protocol: exactly one of its two fields.
	ExplicitHTTPConfig *UpstreamHTTPProtocols `yaml:"explicit_http_config" json:"explicit_http_config,omitempty"`
	// UseDownstreamProtocolConfig speaks upstream what the client spoke
	// downstream (HTTP/1.1 or HTTP/2); each field configures that protocol.
	UseDownstreamProtocolConfig *UpstreamHTTPProtocols `yaml:"use_downstream_protocol_config" json:"use_downstream_protocol_config,omitempty"`
	// AutoConfig negotiates by ALPN over TLS and uses HTTP/1.1 in plain text.
	AutoConfig *UpstreamHTTPProtocols `yaml:"auto_config" json:"auto_config,omitempty"`
	// UpstreamHTTPProtocolOptions sets the SNI of TLS connections from each
	// request's Host (Envoy's config.core.v3.UpstreamHttpProtocolOptions).
	UpstreamHTTPProtocolOptions *UpstreamHTTPSNI `yaml:"upstream_http_protocol_options" json:"upstream_http_protocol_options,omitempty"`
}

// UpstreamHTTPSNI is Envoy's UpstreamHttpProtocolOptions: with AutoSNI a
// pool's TLS connections carry the request's Host (without port), or the
// header OverrideAutoSNIHeader names when the request has it, as SNI
// (connections are pooled per SNI); AutoSANValidation also requires the
// server's certificate to be valid for that name.
type UpstreamHTTPSNI struct {
	AutoSNI               bool   `yaml:"auto_sni" json:"auto_sni,omitempty"`
	AutoSANValidation     bool   `yaml:"auto_san_validation" json:"auto_san_validation,omitempty"`
	OverrideAutoSNIHeader string `yaml:"override_auto_sni_header" json:"override_auto_sni_header,omitempty"`
}

// UpstreamHTTPProtocols holds one or both protocols' options: Envoy's
// ExplicitHttpConfig, UseDownstreamHttpConfig and AutoHttpConfig.
type UpstreamHTTPProtocols struct {
	// HTTPProtocolOptions selects (or configures) HTTP/1.1.
	HTTPProtocolOptions *HTTP1Options `yaml:"http_protocol_options" json:"http_protocol_options,omitempty"`
	// HTTP2ProtocolOptions selects (or configures) HTTP/2.
	HTTP2ProtocolOptions *HTTP2Options `yaml:"http2_protocol_options" json:"http2_protocol_options,omitempty"`
}

// HTTP1Options is Envoy's config.core.v3.Http1ProtocolOptions; sluice reads
// none of its fields yet, so it only selects HTTP/1.1.
type HTTP1Options struct{}

// HTTP2Options is Envoy's config.core.v3.Http2ProtocolOptions, the fields an
// upstream pool uses.
type HTTP2Options struct {
	// MaxConcurrentStreams caps the streams sluice puts on one upstream
	// connection (below the server's SETTINGS limit); when the least-loaded
	// connection carries this many, the pool opens another (up to the
	// cluster's http_pool.max_connections_per_host) and beyond that requests
	// wait. Zero (Envoy's default 2^31-1, unbounded) leaves the share to
	// http_pool.target_streams_per_connection.
	MaxConcurrentStreams uint32 `yaml:"max_concurrent_streams" json:"max_concurrent_streams,omitempty"`
	// InitialStreamWindowSize is the per-stream receive window, 65535..2^31-1;
	// Go's HTTP/2 client caps windows below 4 MiB. Zero: Go's default.
	InitialStreamWindowSize uint32 `yaml:"initial_stream_window_size" json:"initial_stream_window_size,omitempty"`
	// InitialConnectionWindowSize is the connection receive window, same range.
	InitialConnectionWindowSize uint32 `yaml:"initial_connection_window_size" json:"initial_connection_window_size,omitempty"`
}

// UpstreamCommonHTTPOptions is Envoy's config.core.v3.HttpProtocolOptions as
// used for upstream connections.
type UpstreamCommonHTTPOptions struct {
	// IdleTimeout closes a connection without requests for this long.
	// Default 1h (Envoy's upstream default); 0 in a file disables it.
	IdleTimeout *Duration `yaml:"idle_timeout" json:"idle_timeout,omitempty"`
	// MaxConnectionDuration drains a connection this long after it opened;
	// zero (default) never.
	MaxConnectionDuration Duration `yaml:"max_connection_duration" json:"max_connection_duration,omitempty"`
	// MaxRequestsPerConnection retires a connection after this many
	// requests; zero (default) is unlimited.
	MaxRequestsPerConnection uint32 `yaml:"max_requests_per_connection" json:"max_requests_per_connection,omitempty"`
}

// HTTPPool is sluice's own (not Envoy's) sizing of its HTTP/2 pool per
// upstream host. Envoy packs streams onto as few connections as it can;
// sluice spreads them so that several server processes sharing one port
// (SO_REUSEPORT) all get connections, and so work (docs/http-pool.md).
type HTTPPool struct {
	// MinConnectionsPerHost are kept open to each host in use. Default 1.
	MinConnectionsPerHost uint32 `yaml:"min_connections_per_host" json:"min_connections_per_host"`
	// MaxConnectionsPerHost bounds HTTP/2 connections per host (the
	// circuit breaker's max_connections bounds the whole cluster). Default 64.
	MaxConnectionsPerHost uint32 `yaml:"max_connections_per_host" json:"max_connections_per_host"`
	// TargetStreamsPerConnection is the share of outstanding streams a
	// connection carries before another opens, when max_concurrent_streams
	// is not set. Default 1: a new stream goes to an idle connection, or a
	// new one, while fewer than max_connections_per_host are open.
	TargetStreamsPerConnection uint32 `yaml:"target_streams_per_connection" json:"target_streams_per_connection"`
}

// PreconnectPolicy is Envoy's Cluster.PreconnectPolicy.
type PreconnectPolicy struct {
	// PerUpstreamPreconnectRatio is how many streams' worth of HTTP/2
	// connection capacity the pool keeps per outstanding stream, 1..3: with
	// 2 and a share of one stream per connection, 32 outstanding streams
	// keep 64 connections open (up to max_connections_per_host), so that
	// server processes behind one SO_REUSEPORT port all get some. Envoy's
	// default is 1 (no preconnecting); sluice's, when the block is absent,
	// is DefaultPreconnectRatio.
	PerUpstreamPreconnectRatio float64 `yaml:"per_upstream_preconnect_ratio" json:"per_upstream_preconnect_ratio"`
}

// DefaultPreconnectRatio is sluice's per_upstream_preconnect_ratio for
// HTTP/2 pools of clusters without a preconnect_policy.
const DefaultPreconnectRatio = 2

// SetDefaults fills Envoy's default (set the field to use it).
func (p *PreconnectPolicy) SetDefaults() { p.PerUpstreamPreconnectRatio = 1 }

// Validate checks Envoy's range.
func (p *PreconnectPolicy) Validate(path string, errs *Errors) {
	if p.PerUpstreamPreconnectRatio < 1 || p.PerUpstreamPreconnectRatio > 3 {
		errs.Add(Join(path, "per_upstream_preconnect_ratio"), "must be 1..3, got %v", p.PerUpstreamPreconnectRatio)
	}
}

// PreconnectRatio is the cluster's per_upstream_preconnect_ratio, or
// DefaultPreconnectRatio.
func (c *Cluster) PreconnectRatio() float64 {
	if c.PreconnectPolicy == nil {
		return DefaultPreconnectRatio
	}
	return c.PreconnectPolicy.PerUpstreamPreconnectRatio
}

// SetDefaults fills sluice's defaults.
func (p *HTTPPool) SetDefaults() {
	*p = HTTPPool{MinConnectionsPerHost: 1, MaxConnectionsPerHost: 64, TargetStreamsPerConnection: 1}
}

// Validate checks the bounds are ordered.
func (p *HTTPPool) Validate(path string, errs *Errors) {
	if p.MaxConnectionsPerHost == 0 {
		errs.Add(Join(path, "max_connections_per_host"), "must be at least 1")
	}
	if p.MinConnectionsPerHost > p.MaxConnectionsPerHost {
		errs.Add(Join(path, "min_connections_per_host"), "%d is above max_connections_per_host %d", p.MinConnectionsPerHost, p.MaxConnectionsPerHost)
	}
	if p.TargetStreamsPerConnection == 0 {
		errs.Add(Join(path, "target_streams_per_connection"), "must be at least 1")
	}
}

// Validate checks @type and that exactly one protocol selection is made.
func (o *UpstreamHTTPOptions) Validate(path string, errs *Errors) {
	if o.Type != "" && o.Type != HTTPOptionsType && o.Type != "type.googleapis.com/"+HTTPOptionsType {
		errs.Add(Join(path, "@type"), "must be %s, got %q", HTTPOptionsType, o.Type)
	}
	n := 0
	for _, set := range []bool{o.ExplicitHTTPConfig != nil, o.UseDownstreamProtocolConfig != nil, o.AutoConfig != nil} {
		if set {
			n++
		}
	}
	if n > 1 {
		errs.Add(path, "set one of explicit_http_config, use_downstream_protocol_config, auto_config")
	}
	if e := o.ExplicitHTTPConfig; e != nil && (e.HTTPProtocolOptions == nil) == (e.HTTP2ProtocolOptions == nil) {
		errs.Add(Join(path, "explicit_http_config"), "set exactly one of http_protocol_options, http2_protocol_options")
	}
}

// Validate checks the window sizes against HTTP/2's range.
func (o *HTTP2Options) Validate(path string, errs *Errors) {
	for _, w := range []struct {
		name string
		v    uint32
	}{{"initial_stream_window_size", o.InitialStreamWindowSize}, {"initial_connection_window_size", o.InitialConnectionWindowSize}} {
		if w.v != 0 && (w.v < 65535 || w.v > 1<<31-1) {
			errs.Add(Join(path, w.name), "must be 65535..2147483647, got %d", w.v)
		}
	}
}

// UpstreamProtocol is how a pool speaks to a cluster's hosts.
type UpstreamProtocol uint8

const (
	// ProtoHTTP1 is HTTP/1.1 (Envoy's default for a cluster).
	ProtoHTTP1 UpstreamProtocol = iota
	// ProtoHTTP2 is HTTP/2 (h2 over TLS, h2c with prior knowledge in plain).
	ProtoHTTP2
	// ProtoDownstream follows the downstream request's protocol.
	ProtoDownstream
	// ProtoAuto is ALPN over TLS (h2, else HTTP/1.1), HTTP/1.1 in plain.
	ProtoAuto
)

// String is for logs.
func (p UpstreamProtocol) String() string {
	return [...]string{"http1", "http2", "downstream", "auto"}[p]
}

// UpstreamHTTP resolves the cluster's HTTP protocol settings: the protocol,
// its HTTP/2 options (never nil) and common options with defaults filled.
// typed_extension_protocol_options wins over the older cluster-level
// http2_protocol_options.
func (c *Cluster) UpstreamHTTP() (UpstreamProtocol, HTTP2Options, UpstreamCommonHTTPOptions) {
	proto, h2 := ProtoHTTP1, HTTP2Options{}
	if c.HTTP2ProtocolOptions != nil {
		proto, h2 = ProtoHTTP2, *c.HTTP2ProtocolOptions
	}
	common := UpstreamCommonHTTPOptions{}
	var o *UpstreamHTTPOptions
	if c.TypedExtensionProtocolOptions != nil {
		o = c.TypedExtensionProtocolOptions.HTTP
	}
	if o != nil {
		var sel *UpstreamHTTPProtocols
		switch {
		case o.ExplicitHTTPConfig != nil:
			sel, proto = o.ExplicitHTTPConfig, ProtoHTTP1
			if sel.HTTP2ProtocolOptions != nil {
				proto = ProtoHTTP2
			}
		case o.UseDownstreamProtocolConfig != nil:
			sel, proto = o.UseDownstreamProtocolConfig, ProtoDownstream
		case o.AutoConfig != nil:
			sel, proto = o.AutoConfig, ProtoAuto
		}
		if sel != nil && sel.HTTP2ProtocolOptions != nil {
			h2 = *sel.HTTP2ProtocolOptions
		}
		if o.CommonHTTPProtocolOptions != nil {
			common = *o.CommonHTTPProtocolOptions
		}
	}
	if common.IdleTimeout == nil {
		d := Duration(time.Hour)
		common.IdleTimeout = &d
	}
	return proto, h2, common
}

// String is for logs.
func (o *UpstreamHTTPOptions) String() string { return fmt.Sprintf("%+v", *o) }
