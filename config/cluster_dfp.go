package config

// DNSCacheConfig is Envoy's envoy.extensions.common.dynamic_forward_proxy.v3.DnsCacheConfig:
// the DNS cache a dynamic_forward_proxy cluster and the HTTP filter of the
// same name share (by name). Hosts are added as requests name them.
type DNSCacheConfig struct {
	// Name identifies the cache: stats are dns_cache.<name>.*, and the
	// dynamic_forward_proxy HTTP filter names the same cache.
	Name string `yaml:"name" json:"name"`
	// DNSLookupFamily is V4_ONLY, V6_ONLY, V4_PREFERRED, AUTO (IPv6
	// preferred) or ALL; Envoy's default V4_ONLY.
	DNSLookupFamily string `yaml:"dns_lookup_family" json:"dns_lookup_family,omitempty"`
	// MaxHosts bounds the hosts in the cache; a new host beyond it fails
	// (503, DF). Envoy's default 1024.
	MaxHosts uint32 `yaml:"max_hosts" json:"max_hosts,omitempty"`
	// DNSRefreshRate is how often cached hosts are resolved again; Envoy's
	// default 60s.
	DNSRefreshRate Duration `yaml:"dns_refresh_rate" json:"dns_refresh_rate,omitempty"`
	// HostTTL drops a host no request used for this long; Envoy's default 5m.
	HostTTL Duration `yaml:"host_ttl" json:"host_ttl,omitempty"`
}

// SetDefaults fills Envoy's defaults.
func (d *DNSCacheConfig) SetDefaults() {
	if d.DNSLookupFamily == "" {
		d.DNSLookupFamily = "V4_ONLY"
	}
	if d.MaxHosts == 0 {
		d.MaxHosts = 1024
	}
	if d.DNSRefreshRate == 0 {
		d.DNSRefreshRate = Duration(60e9)
	}
	if d.HostTTL == 0 {
		d.HostTTL = Duration(300e9)
	}
}

// Validate checks the name and the lookup family.
func (d *DNSCacheConfig) Validate(path string, errs *Errors) {
	d.SetDefaults()
	if d.Name == "" {
		errs.Add(Join(path, "name"), "required")
	}
	switch d.DNSLookupFamily {
	case "V4_ONLY", "V6_ONLY", "V4_PREFERRED", "AUTO", "ALL":
	default:
		errs.Add(Join(path, "dns_lookup_family"), "unknown family %q (V4_ONLY, V6_ONLY, V4_PREFERRED, AUTO, ALL)", d.DNSLookupFamily)
	}
	if d.DNSRefreshRate < 0 || d.HostTTL < 0 {
		errs.Add(path, "dns_refresh_rate and host_ttl must not be negative")
	}
}
