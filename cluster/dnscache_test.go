package cluster

import (
	"context"
	"errors"
	"net"
	"testing"

	"github.com/sluice-proxy/sluice/config"
)

// TestDNSCache: a dynamic_forward_proxy cluster resolves a name once and
// connects to it (a real server), answers later requests from the cache,
// refuses names that do not resolve or lack the family, stops at
// max_hosts, follows an address change on refresh and drops hosts unused
// for host_ttl, counting Envoy's dns_cache.<name>.* stats.
func TestDNSCache(t *testing.T) {
	srv := newServer(t, ping)
	_, port, _ := net.SplitHostPort(srv.addr)
	res := &fakeResolver{}
	res.set("api.test", "::1", "127.0.0.1")
	res.set("v6only.test", "::1")
	res.set("b.test", "127.0.0.2")
	m, st := testManager(t)
	m.Resolver = res
	m.Apply([]config.Cluster{clusterCfg(t, `{name: dfp, type: dynamic_forward_proxy, connect_timeout: 1s,
  dns_cache_config: {name: cache, max_hosts: 2, dns_refresh_rate: 1h}}`)})
	c := m.Get("dfp")
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		h, err := c.ResolveHost(ctx, "api.test:"+port)
		if err != nil {
			t.Fatal(err)
		}
		if h.DialAddress() != srv.addr || h.Address() != "api.test:"+port {
			t.Fatalf("host %s dials %s, want %s (V4_ONLY)", h.Address(), h.DialAddress(), srv.addr)
		}
		up, err := c.Dial(ctx, h)
		if err != nil {
			t.Fatal(err)
		}
		up.Close()
	}
	for _, name := range []string{"nx.test:80", "v6only.test:80", "no-port.test"} {
		if _, err := c.ResolveHost(ctx, name); !errors.Is(err, ErrDNSResolution) {
			t.Fatalf("%s: %v, want ErrDNSResolution", name, err)
		}
	}
	if _, err := c.ResolveHost(ctx, "b.test:80"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ResolveHost(ctx, "c.test:80"); !errors.Is(err, ErrDNSCacheOverflow) {
		t.Fatalf("beyond max_hosts: %v", err)
	}
	d := c.dfp.Load()
	res.set("b.test", "127.0.0.3")
	d.mu.Lock()
	d.hosts["api.test:"+port].used.Store(0) // unused since 1970: past host_ttl
	d.mu.Unlock()
	d.refreshOnce(ctx)
	if h, _ := c.ResolveHost(ctx, "b.test:80"); h.DialAddress() != "127.0.0.3:80" {
		t.Fatalf("after refresh b.test dials %s", h.DialAddress())
	}
	want := map[string]uint64{
		"dns_query_attempt": 5, "dns_query_success": 3, "dns_query_failure": 3, "host_added": 2,
		"host_removed": 1, "host_overflow": 1, "host_address_changed": 1,
	}
	for name, w := range want {
		if got := counter(st, "dns_cache.cache."+name); got != w {
			t.Errorf("%s = %d, want %d", name, got, w)
		}
	}
	if g, _ := st.GaugeValue("dns_cache.cache.num_hosts"); g != 1 {
		t.Errorf("num_hosts %d, want 1", g)
	}
}
