package thrift

import (
	"strings"

	codec "github.com/sluice-proxy/sluice/codec/thrift"
	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/router"
)

// Config is thrift_proxy's typed config, after Envoy's ThriftProxy message.
type Config struct {
	// StatPrefix names the stats: thrift.<stat_prefix>.*. Required.
	StatPrefix string `yaml:"stat_prefix" json:"stat_prefix"`
	// Transport downstream: AUTO_TRANSPORT (default), FRAMED, UNFRAMED, HEADER.
	Transport string `yaml:"transport" json:"transport,omitempty"`
	// Protocol downstream: AUTO_PROTOCOL (default), BINARY, LAX_BINARY,
	// COMPACT. TWITTER is refused.
	Protocol string `yaml:"protocol" json:"protocol,omitempty"`
	// RouteConfig routes each call to a cluster. Required.
	RouteConfig RouteConfig `yaml:"route_config" json:"route_config"`
	// ThriftFilters is the decoder filter chain; only
	// envoy.filters.thrift.router is built, and it is the default.
	ThriftFilters []ThriftFilter `yaml:"thrift_filters" json:"thrift_filters,omitempty"`
	// PayloadPassthrough forwards bodies as bytes without decoding them;
	// sluice never decodes a body unless it must translate it between
	// protocols, so this only records Envoy's setting.
	PayloadPassthrough bool `yaml:"payload_passthrough" json:"payload_passthrough,omitempty"`
	// MaxRequestsPerConnection closes a client connection after this many
	// requests (downstream_cx_max_requests). 0: no limit.
	MaxRequestsPerConnection uint32 `yaml:"max_requests_per_connection" json:"max_requests_per_connection,omitempty"`
	// RequestTimeout (sluice) bounds the wait for each reply; a call without
	// a reply by then is answered with a TApplicationException (InternalError).
	// Envoy has no such timeout. Default 15s; 0 disables.
	RequestTimeout config.Duration `yaml:"request_timeout" json:"request_timeout"`
	// MaxUpstreamConnectionsPerHost (sluice) bounds the connections to each
	// host; 0 (default) leaves it to the cluster's max_connections.
	MaxUpstreamConnectionsPerHost int `yaml:"max_upstream_connections_per_host" json:"max_upstream_connections_per_host,omitempty"`
	// MaxRequestsPerUpstreamConnection (sluice) is how many calls of any
	// clients share one upstream connection at a time, matched back by
	// sequence id. Default 1, Envoy's behaviour: the Thrift libraries'
	// servers answer one connection's calls one after the other, so shared
	// calls wait for each other. Raise it for servers that work on a
	// connection's calls concurrently.
	MaxRequestsPerUpstreamConnection int `yaml:"max_requests_per_upstream_connection" json:"max_requests_per_upstream_connection,omitempty"`
	// MaxPendingPerClient (sluice) bounds one client's calls in flight
	// (pipelined); reading from the client stops at the bound. Default 128.
	MaxPendingPerClient int `yaml:"max_pending_per_client" json:"max_pending_per_client,omitempty"`
}

// RouteConfig is Envoy's thrift RouteConfiguration.
type RouteConfig struct {
	Name   string  `yaml:"name" json:"name,omitempty"`
	Routes []Route `yaml:"routes" json:"routes"`
}

// Route is one match and its action; the first matching route wins.
type Route struct {
	Match RouteMatch  `yaml:"match" json:"match"`
	Route RouteAction `yaml:"route" json:"route"`
}

// RouteMatch is Envoy's RouteMatch: exactly one of MethodName or
// ServiceName ("" service matches every call); Headers must all match.
type RouteMatch struct {
	MethodName  *string         `yaml:"method_name" json:"method_name,omitempty"`
	ServiceName *string         `yaml:"service_name" json:"service_name,omitempty"`
	Invert      bool            `yaml:"invert" json:"invert,omitempty"`
	Headers     []HeaderMatcher `yaml:"headers" json:"headers,omitempty"`
}

// HeaderMatcher is Envoy's HeaderMatcher, over the header transport's
// headers: string_match, or present_match; invert_match negates.
type HeaderMatcher struct {
	Name         string                `yaml:"name" json:"name"`
	StringMatch  *router.StringMatcher `yaml:"string_match" json:"string_match,omitempty"`
	ExactMatch   *string               `yaml:"exact_match" json:"exact_match,omitempty"`
	PrefixMatch  string                `yaml:"prefix_match" json:"prefix_match,omitempty"`
	PresentMatch bool                  `yaml:"present_match" json:"present_match,omitempty"`
	InvertMatch  bool                  `yaml:"invert_match" json:"invert_match,omitempty"`
}

// RouteAction is Envoy's RouteAction: exactly one of Cluster,
// WeightedClusters or ClusterHeader.
type RouteAction struct {
	Cluster               string           `yaml:"cluster" json:"cluster,omitempty"`
	WeightedClusters      *WeightedCluster `yaml:"weighted_clusters" json:"weighted_clusters,omitempty"`
	ClusterHeader         string           `yaml:"cluster_header" json:"cluster_header,omitempty"`
	StripServiceName      bool             `yaml:"strip_service_name" json:"strip_service_name,omitempty"`
	RequestMirrorPolicies []MirrorPolicy   `yaml:"request_mirror_policies" json:"request_mirror_policies,omitempty"`
}

// WeightedCluster splits calls across clusters by weight.
type WeightedCluster struct {
	Clusters []ClusterWeight `yaml:"clusters" json:"clusters"`
}

// ClusterWeight is one cluster of a WeightedCluster.
type ClusterWeight struct {
	Name   string `yaml:"name" json:"name"`
	Weight uint32 `yaml:"weight" json:"weight"`
}

// MirrorPolicy copies every call of the route to Cluster; its replies are
// dropped. RuntimeFraction is Envoy's percentage (default 100).
type MirrorPolicy struct {
	Cluster         string           `yaml:"cluster" json:"cluster"`
	RuntimeFraction *RuntimeFraction `yaml:"runtime_fraction" json:"runtime_fraction,omitempty"`
}

// RuntimeFraction is Envoy's RuntimeFractionalPercent (the default value;
// sluice has no runtime keys to override it).
type RuntimeFraction struct {
	DefaultValue FractionalPercent `yaml:"default_value" json:"default_value"`
	RuntimeKey   string            `yaml:"runtime_key" json:"runtime_key,omitempty"`
}

// FractionalPercent is numerator over HUNDRED (default), TEN_THOUSAND or MILLION.
type FractionalPercent struct {
	Numerator   uint32 `yaml:"numerator" json:"numerator"`
	Denominator string `yaml:"denominator" json:"denominator,omitempty"`
}

// ThriftFilter is one entry of thrift_filters.
type ThriftFilter struct {
	Name        string        `yaml:"name" json:"name"`
	TypedConfig *RouterConfig `yaml:"typed_config" json:"typed_config,omitempty"`
}

// RouterConfig is envoy.filters.thrift.router's config.
type RouterConfig struct {
	// CloseDownstreamOnUpstreamError closes the client's connection after
	// the local exception answering a connect failure or reset. Default
	// true, as in Envoy.
	CloseDownstreamOnUpstreamError *bool `yaml:"close_downstream_on_upstream_error" json:"close_downstream_on_upstream_error,omitempty"`
}

// RouterFilterName is the one thrift filter sluice builds.
const RouterFilterName = "envoy.filters.thrift.router"

// NewConfig returns a config with its defaults.
func NewConfig() *Config {
	return &Config{RequestTimeout: config.Duration(15e9), MaxRequestsPerUpstreamConnection: 1, MaxPendingPerClient: 128}
}

// Validate records every problem with its path.
func (c *Config) Validate(path string, errs *config.Errors) {
	if c.StatPrefix == "" {
		errs.Add(config.Join(path, "stat_prefix"), "required")
	}
	if _, ok := codec.ParseTransport(c.Transport); c.Transport != "" && !ok {
		errs.Add(config.Join(path, "transport"), "unknown transport %q (AUTO_TRANSPORT, FRAMED, UNFRAMED, HEADER)", c.Transport)
	}
	if p, ok := codec.ParseProtocol(c.Protocol); c.Protocol != "" && !ok {
		errs.Add(config.Join(path, "protocol"), "unknown protocol %q (AUTO_PROTOCOL, BINARY, LAX_BINARY, COMPACT)", c.Protocol)
	} else if p == codec.ProtocolTwitter {
		errs.Add(config.Join(path, "protocol"), "TWITTER is not supported: Finagle's protocol upgrade is not implemented (deprecated in Envoy too); use BINARY")
	}
	if c.MaxUpstreamConnectionsPerHost < 0 || c.MaxPendingPerClient < 0 || c.MaxRequestsPerUpstreamConnection < 0 {
		errs.Add(path, "max_upstream_connections_per_host, max_requests_per_upstream_connection and max_pending_per_client must not be negative")
	}
	rp := config.Join(path, "route_config.routes")
	if len(c.RouteConfig.Routes) == 0 {
		errs.Add(rp, "at least one route is required")
	}
	for i := range c.RouteConfig.Routes {
		c.RouteConfig.Routes[i].validate(config.Index(rp, i), errs)
	}
	for i, f := range c.ThriftFilters {
		if f.Name != RouterFilterName {
			errs.Add(config.Join(config.Index(config.Join(path, "thrift_filters"), i), "name"), "unknown thrift filter %q (only %s is built)", f.Name, RouterFilterName)
		}
	}
}

func (r *Route) validate(path string, errs *config.Errors) {
	mp := config.Join(path, "match")
	if (r.Match.MethodName == nil) == (r.Match.ServiceName == nil) {
		errs.Add(mp, "set exactly one of method_name, service_name")
	}
	if r.Match.Invert && r.Match.MethodName != nil && *r.Match.MethodName == "" {
		errs.Add(config.Join(mp, "invert"), "cannot invert an empty method_name")
	}
	for i := range r.Match.Headers {
		h := &r.Match.Headers[i]
		hp := config.Index(config.Join(mp, "headers"), i)
		if h.Name == "" {
			errs.Add(config.Join(hp, "name"), "required")
		}
		n := 0
		for _, set := range []bool{h.StringMatch != nil, h.ExactMatch != nil, h.PrefixMatch != "", h.PresentMatch} {
			if set {
				n++
			}
		}
		if n != 1 {
			errs.Add(hp, "set exactly one of string_match, exact_match, prefix_match, present_match")
		}
		h.StringMatch.Validate(config.Join(hp, "string_match"), errs)
	}
	ap := config.Join(path, "route")
	a := r.Route
	n := 0
	for _, set := range []bool{a.Cluster != "", a.WeightedClusters != nil, a.ClusterHeader != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		errs.Add(ap, "set exactly one of cluster, weighted_clusters, cluster_header")
	}
	if w := a.WeightedClusters; w != nil {
		if len(w.Clusters) == 0 {
			errs.Add(config.Join(ap, "weighted_clusters.clusters"), "at least one cluster is required")
		}
		total := uint64(0)
		for i, c := range w.Clusters {
			if c.Name == "" {
				errs.Add(config.Join(config.Index(config.Join(ap, "weighted_clusters.clusters"), i), "name"), "required")
			}
			total += uint64(c.Weight)
		}
		if len(w.Clusters) > 0 && total == 0 {
			errs.Add(config.Join(ap, "weighted_clusters.clusters"), "weights sum to 0")
		}
	}
	for i, m := range a.RequestMirrorPolicies {
		pp := config.Index(config.Join(ap, "request_mirror_policies"), i)
		if m.Cluster == "" {
			errs.Add(config.Join(pp, "cluster"), "required")
		}
		if f := m.RuntimeFraction; f != nil && denominator(f.DefaultValue.Denominator) == 0 {
			errs.Add(config.Join(pp, "runtime_fraction.default_value.denominator"), "unknown denominator %q", f.DefaultValue.Denominator)
		}
	}
}

// denominator maps Envoy's DenominatorType names; 0 is unknown.
func denominator(s string) uint32 {
	switch strings.ToUpper(s) {
	case "", "HUNDRED":
		return 100
	case "TEN_THOUSAND":
		return 10000
	case "MILLION":
		return 1000000
	}
	return 0
}

// ClusterRefs names every cluster the config refers to statically (cluster
// headers name theirs at run time), for config's cross-reference check.
func (c *Config) ClusterRefs(path string) []config.ClusterRef {
	var out []config.ClusterRef
	for i, r := range c.RouteConfig.Routes {
		p := config.Join(config.Index(config.Join(path, "route_config.routes"), i), "route")
		if r.Route.Cluster != "" {
			out = append(out, config.ClusterRef{Path: config.Join(p, "cluster"), Name: r.Route.Cluster})
		}
		if w := r.Route.WeightedClusters; w != nil {
			for j, cw := range w.Clusters {
				out = append(out, config.ClusterRef{Path: config.Join(config.Index(config.Join(p, "weighted_clusters.clusters"), j), "name"), Name: cw.Name})
			}
		}
		for j, m := range r.Route.RequestMirrorPolicies {
			out = append(out, config.ClusterRef{Path: config.Join(config.Index(config.Join(p, "request_mirror_policies"), j), "cluster"), Name: m.Cluster})
		}
	}
	return out
}
