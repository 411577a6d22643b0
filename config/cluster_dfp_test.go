package config

import (
	"strings"
	"testing"
)

func TestDynamicForwardProxyClusterValidate(t *testing.T) {
	tests := []struct {
		name, cluster, wantErr string
	}{
		{"ok", `{name: d, type: dynamic_forward_proxy, dns_cache_config: {name: c}}`, ""},
		{"no cache", `{name: d, type: dynamic_forward_proxy}`, "clusters[0].dns_cache_config: required by (and only with) type dynamic_forward_proxy"},
		{"cache on static", `{name: d, endpoints: ["127.0.0.1:1"], dns_cache_config: {name: c}}`, "clusters[0].dns_cache_config: required by"},
		{"no name", `{name: d, type: dynamic_forward_proxy, dns_cache_config: {max_hosts: 3}}`, "clusters[0].dns_cache_config.name: required"},
		{"family", `{name: d, type: dynamic_forward_proxy, dns_cache_config: {name: c, dns_lookup_family: V5}}`, `clusters[0].dns_cache_config.dns_lookup_family: unknown family "V5"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse("t.yaml", []byte("clusters: ["+tt.cluster+"]\n"))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				d := cfg.Clusters[0].DNSCacheConfig
				if d.DNSLookupFamily != "V4_ONLY" || d.MaxHosts != 1024 || d.DNSRefreshRate.D().String() != "1m0s" || d.HostTTL.D().String() != "5m0s" {
					t.Fatalf("defaults: %+v", d)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
}
