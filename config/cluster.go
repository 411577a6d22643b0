package config

import (
	"fmt"
	"reflect"
	"time"

	"go.yaml.in/yaml/v3"
)

// Cluster is a named set of upstream hosts and how to reach and choose them.
type Cluster struct {
	// Name is referenced by terminal filters; required and unique.
	Name string `yaml:"name" json:"name"`
	// Type is the discovery type: static (default), strict_dns, logical_dns,
	// redis_cluster (endpoints are seed nodes; the cluster discovers its
	// nodes and slot map with CLUSTER SLOTS) or eds (endpoints come from a
	// control plane or a file, config/xds; there may be none yet).
	Type string `yaml:"type" json:"type"`
	// ClusterRefreshRate is how often a redis_cluster's slot map is read
	// again (Envoy's RedisClusterConfig.cluster_refresh_rate). Default 5s.
	ClusterRefreshRate Duration `yaml:"cluster_refresh_rate" json:"cluster_refresh_rate,omitempty"`
	// RedirectRefreshThreshold is how many MOVED/ASK redirects a
	// redis_cluster takes before it reads its slot map again; 0 turns
	// redirect-triggered refreshes off. Unset means Envoy's default, 5.
	RedirectRefreshThreshold *uint32 `yaml:"redirect_refresh_threshold" json:"redirect_refresh_threshold,omitempty"`
	// FailureRefreshThreshold is how many upstream failures (connect
	// failures, failed requests) trigger a refresh; 0 (default) is off.
	FailureRefreshThreshold uint32 `yaml:"failure_refresh_threshold" json:"failure_refresh_threshold,omitempty"`
	// RedirectRefreshInterval is the least time between two triggered
	// refreshes; what comes in between is ignored. Unset means 5s (Envoy's).
	RedirectRefreshInterval Duration `yaml:"redirect_refresh_interval" json:"redirect_refresh_interval,omitempty"`
	// LBPolicy picks a host per connection or request. Default round_robin.
	LBPolicy string `yaml:"lb_policy" json:"lb_policy"`
	// ConnectTimeout bounds each upstream connect. Default 5s (Envoy's).
	ConnectTimeout Duration `yaml:"connect_timeout" json:"connect_timeout"`
	// DNSRefreshRate is how often strict_dns names are resolved again. Default 5s.
	DNSRefreshRate Duration `yaml:"dns_refresh_rate" json:"dns_refresh_rate"`
	// Endpoints are "host:port" strings or {address, weight} mappings.
	Endpoints []Endpoint `yaml:"endpoints" json:"endpoints"`
	// HealthyPanicThreshold is Envoy's common_lb_config.healthy_panic_threshold
	// in percent: when fewer hosts than this are healthy, the balancer uses
	// every host. Default 50; 0 disables panic mode.
	HealthyPanicThreshold float64 `yaml:"healthy_panic_threshold" json:"healthy_panic_threshold"`
	// OverprovisioningFactor is Envoy's ClusterLoadAssignment
	// policy.overprovisioning_factor in percent: a priority or locality
	// counts as fully available while healthy/total times it is at least
	// 100. Default 140.
	OverprovisioningFactor uint32 `yaml:"overprovisioning_factor" json:"overprovisioning_factor"`
	// WeightedPriorityHealth computes a priority's health from host
	// weights instead of host counts (Envoy's policy field). Default false.
	WeightedPriorityHealth bool `yaml:"weighted_priority_health" json:"weighted_priority_health,omitempty"`
	// LocalityWeightedLB is Envoy's common_lb_config
	// locality_weighted_lb_config: within a priority, a locality is chosen
	// by its locality_weight times its availability, then a host in it.
	// round_robin, least_request and random only.
	LocalityWeightedLB bool `yaml:"locality_weighted_lb" json:"locality_weighted_lb,omitempty"`
	// The policy's config block, when given, is decoded by the policy's
	// registered type (cluster/lb): ring_hash_lb_config (minimum_ring_size
	// ...), maglev_lb_config (table_size), least_request_lb_config
	// (choice_count, active_request_bias). LBConfig returns it.
	lbBlocks []lbBlock
	// HealthChecks are active checks run against every host; all must pass.
	// None (default) means hosts are healthy unless outlier detection ejects them.
	HealthChecks []HealthCheck `yaml:"health_checks" json:"health_checks,omitempty"`
	// OutlierDetection ejects hosts that fail in traffic; nil disables it.
	OutlierDetection *OutlierDetection `yaml:"outlier_detection" json:"outlier_detection,omitempty"`
	// CircuitBreakers limit connections and requests; nil means Envoy's
	// defaults (1024 connections, pending and requests, 3 retries).
	CircuitBreakers *CircuitBreakers `yaml:"circuit_breakers" json:"circuit_breakers,omitempty"`
	// PerConnectionBufferLimitBytes is Envoy's soft limit on what sluice
	// holds for one upstream connection of this cluster; terminals that
	// multiplex upstream connections (redis_proxy) stream a reply larger
	// than it instead of holding it whole. Default 1 MiB, at least 64 KiB.
	PerConnectionBufferLimitBytes uint32 `yaml:"per_connection_buffer_limit_bytes" json:"per_connection_buffer_limit_bytes"`
	// ThriftProtocolOptions are the transport and protocol thrift_proxy
	// speaks to this cluster's hosts (Envoy's typed_extension_protocol_options
	// envoy.filters.network.thrift_proxy); nil: as each client speaks.
	ThriftProtocolOptions *ThriftProtocolOptions `yaml:"thrift_protocol_options" json:"thrift_protocol_options,omitempty"`
	// UpstreamProxyProtocol, when set, starts every connection to a host
	// with a PROXY protocol header (Envoy's upstream_proxy_protocol
	// transport socket). tcp_proxy names its downstream client in it;
	// connections without one (pools, health checks) send a LOCAL header.
	UpstreamProxyProtocol *UpstreamProxyProtocol `yaml:"upstream_proxy_protocol" json:"upstream_proxy_protocol,omitempty"`
	// TypedExtensionProtocolOptions holds Envoy's HttpProtocolOptions for
	// the HTTP pools (cluster/httppool): protocol, lifetimes, HTTP/2 sizes.
	TypedExtensionProtocolOptions *ExtensionProtocolOptions `yaml:"typed_extension_protocol_options" json:"typed_extension_protocol_options,omitempty"`
	// HTTP2ProtocolOptions is Envoy's older cluster-level field: set, the
	// cluster speaks HTTP/2 (typed_extension_protocol_options wins).
	HTTP2ProtocolOptions *HTTP2Options `yaml:"http2_protocol_options" json:"http2_protocol_options,omitempty"`
	// HTTPPool sizes sluice's HTTP/2 pool per host (sluice's own block).
	HTTPPool HTTPPool `yaml:"http_pool" json:"http_pool"`
	// DNSCacheConfig is the DNS cache of a dynamic_forward_proxy cluster
	// (cluster_dfp.go); required for that type, refused for others.
	DNSCacheConfig *DNSCacheConfig `yaml:"dns_cache_config" json:"dns_cache_config,omitempty"`
	// PreconnectPolicy is how much HTTP/2 connection capacity the pool
	// keeps ahead of the streams; nil means sluice's default ratio 2.
	PreconnectPolicy *PreconnectPolicy `yaml:"preconnect_policy" json:"preconnect_policy,omitempty"`
	// TLS is Envoy's transport_socket with an UpstreamTlsContext: every
	// connection to the cluster's hosts speaks TLS. Nil: plain TCP.
	TLS *UpstreamTLSContext `yaml:"tls" json:"tls,omitempty"`
}

// Endpoint is one upstream address with its load-balancing weight.
type Endpoint struct {
	Address string `yaml:"address" json:"address"`
	// Weight defaults to 1; 1..128 as in Envoy.
	Weight uint32 `yaml:"weight" json:"weight"`
	// Priority is Envoy's LocalityLbEndpoints.priority: 0 (default) is
	// used first; lower levels take the load the higher ones cannot
	// (cluster_priority.go).
	Priority uint32 `yaml:"priority" json:"priority,omitempty"`
	// Locality is where the endpoint runs (Envoy's Locality); endpoints
	// of one priority and locality form one locality.
	Locality Locality `yaml:"locality" json:"locality,omitzero"`
	// LocalityWeight is the locality's load_balancing_weight, used with
	// locality_weighted_lb; every endpoint of a locality gives the same.
	LocalityWeight uint32 `yaml:"locality_weight" json:"locality_weight,omitempty"`
	// Hostname is Envoy's endpoint.hostname: the Host auto_host_rewrite
	// sends (strict_dns and logical_dns endpoints have their DNS name).
	Hostname string `yaml:"hostname" json:"hostname,omitempty"`
}

// DecodeNode accepts "host:port" or {address: host:port, weight: n}.
func (e *Endpoint) DecodeNode(d *Decoder, path string, n *yaml.Node) {
	e.Weight = 1
	if n.Kind == yaml.ScalarNode {
		e.Address = n.Value
		return
	}
	type plain Endpoint
	d.decodeStruct(path, n, reflect.ValueOf((*plain)(e)).Elem())
}

// Validate checks address and weight.
func (e *Endpoint) Validate(path string, errs *Errors) {
	if err := CheckHostPort(e.Address, false); err != nil {
		errs.Add(Join(path, "address"), "%v", err)
	}
	if e.Weight < 1 || e.Weight > 128 {
		errs.Add(Join(path, "weight"), "must be 1..128, got %d", e.Weight)
	}
}

// SetDefaults fills Envoy's defaults.
func (c *Cluster) SetDefaults() {
	c.Type = "static"
	c.LBPolicy = "round_robin"
	c.ConnectTimeout = Duration(5 * time.Second)
	c.DNSRefreshRate = Duration(5 * time.Second)
	c.ClusterRefreshRate = Duration(5 * time.Second)
	c.HealthyPanicThreshold = 50
	c.OverprovisioningFactor = DefaultOverprovisioningFactor
	c.PerConnectionBufferLimitBytes = DefaultBufferLimit
	c.HTTPPool.SetDefaults()
}

// Validate checks the cluster's own fields.
func (c *Cluster) Validate(path string, errs *Errors) {
	if c.Name == "" {
		errs.Add(Join(path, "name"), "required")
	}
	switch c.Type {
	case "static", "strict_dns", "logical_dns", "redis_cluster", "eds", "dynamic_forward_proxy":
	default:
		errs.Add(Join(path, "type"), "unknown cluster type %q (known: static, strict_dns, logical_dns, redis_cluster, eds, dynamic_forward_proxy)", c.Type)
	}
	if (c.Type == "dynamic_forward_proxy") != (c.DNSCacheConfig != nil) {
		errs.Add(Join(path, "dns_cache_config"), "required by (and only with) type dynamic_forward_proxy")
	}
	c.validateLB(path, errs)
	if c.ConnectTimeout <= 0 {
		errs.Add(Join(path, "connect_timeout"), "must be positive")
	}
	checkBufferLimit(Join(path, "per_connection_buffer_limit_bytes"), c.PerConnectionBufferLimitBytes, errs)
	if c.Type != "static" && c.Type != "eds" && c.DNSRefreshRate <= 0 {
		errs.Add(Join(path, "dns_refresh_rate"), "must be positive")
	}
	if c.Type == "redis_cluster" && c.ClusterRefreshRate <= 0 {
		errs.Add(Join(path, "cluster_refresh_rate"), "must be positive")
	}
	if c.HealthyPanicThreshold < 0 || c.HealthyPanicThreshold > 100 {
		errs.Add(Join(path, "healthy_panic_threshold"), "must be 0..100 (percent), got %v", c.HealthyPanicThreshold)
	}
	c.validatePriorities(path, errs)
	if len(c.Endpoints) == 0 && c.Type != "eds" && c.Type != "dynamic_forward_proxy" {
		errs.Add(Join(path, "endpoints"), "a cluster needs at least one endpoint")
	}
	if c.Type == "logical_dns" && len(c.Endpoints) != 1 {
		errs.Add(Join(path, "endpoints"), "a logical_dns cluster has exactly one endpoint, got %d", len(c.Endpoints))
	}
	if c.Type == "static" || c.Type == "eds" {
		for i, e := range c.Endpoints {
			if !isIPHostPort(e.Address) {
				errs.Add(Join(Index(Join(path, "endpoints"), i), "address"),
					"a static cluster needs IP addresses, got %q (use type: strict_dns for names)", e.Address)
			}
		}
	}
}

// String is for logs.
func (c *Cluster) String() string {
	return fmt.Sprintf("cluster %q (%s, %s, %d endpoints)", c.Name, c.Type, c.LBPolicy, len(c.Endpoints))
}

// MaxWeight returns the largest endpoint weight.
func (c *Cluster) MaxWeight() uint32 {
	var m uint32
	for _, e := range c.Endpoints {
		m = max(m, e.Weight)
	}
	return m
}

// UpstreamProxyProtocol is Envoy's upstream_proxy_protocol transport socket
// (ProxyProtocolUpstreamTransport.config): every connection to a host of
// the cluster starts with a PROXY protocol header naming the downstream
// client, so the server sees the real client address.
type UpstreamProxyProtocol struct {
	// Version is V1 (text) or V2 (binary). Default V1, as in Envoy.
	Version string `yaml:"version" json:"version,omitempty"`
	// PassThroughTLVs sends (v2) the downstream header's TLVs the listener's
	// proxy_protocol filter kept.
	PassThroughTLVs *PassThroughTLVs `yaml:"pass_through_tlvs" json:"pass_through_tlvs,omitempty"`
}

// Validate checks the version.
func (p *UpstreamProxyProtocol) Validate(path string, errs *Errors) {
	switch p.Version {
	case "", "V1", "V2":
	default:
		errs.Add(Join(path, "version"), "must be V1 or V2, got %q", p.Version)
	}
}
