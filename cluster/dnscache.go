package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/stats"
)

// ErrDNSResolution is returned when a dynamic_forward_proxy cluster cannot
// resolve a request's host (Envoy answers 503 with the DF flag).
var ErrDNSResolution = errors.New("dns resolution failure")

// ErrDNSCacheOverflow is returned when a new host would exceed max_hosts.
var ErrDNSCacheOverflow = errors.New("dns cache overflow")

// dnsCache is a dynamic_forward_proxy cluster's resolver-backed host set
// (Envoy's DnsCache): a host per "name:port" that requests named, resolved
// on first use, resolved again every dns_refresh_rate and dropped after
// host_ttl without use. Hosts live outside the cluster's balanced set: a
// request's authority picks its host, not the load balancer.
type dnsCache struct {
	c   *Cluster
	cfg *config.DNSCacheConfig

	mu    sync.Mutex
	hosts map[string]*cacheEntry

	attempt, success, failure, added, removed, overflow, changed *stats.Counter
	num                                                          *stats.Gauge
}

type cacheEntry struct {
	h    *Host
	used atomic.Int64 // unix nanoseconds of the last use
}

// startDNSCache makes the cluster's cache and its refresh loop.
func (c *Cluster) startDNSCache(ctx context.Context, cfg *config.Cluster) {
	dc := cfg.DNSCacheConfig
	dc.SetDefaults()
	sc := c.root.Sub("dns_cache").Sub(dc.Name)
	d := &dnsCache{c: c, cfg: dc, hosts: map[string]*cacheEntry{},
		attempt: sc.Counter("dns_query_attempt"), success: sc.Counter("dns_query_success"),
		failure: sc.Counter("dns_query_failure"), added: sc.Counter("host_added"),
		removed: sc.Counter("host_removed"), overflow: sc.Counter("host_overflow"),
		changed: sc.Counter("host_address_changed"), num: sc.Gauge("num_hosts")}
	d.num.Set(0)
	c.dfp.Store(d)
	c.bg.Add(1)
	go d.refreshLoop(ctx)
}

// ResolveHost returns the host of a dynamic_forward_proxy cluster for
// authority ("name:port"), resolving and caching it on first use. It fails
// with ErrDNSResolution or ErrDNSCacheOverflow.
func (c *Cluster) ResolveHost(ctx context.Context, authority string) (*Host, error) {
	d := c.dfp.Load()
	if d == nil {
		return nil, fmt.Errorf("cluster %s: not a dynamic_forward_proxy cluster", c.name)
	}
	return d.resolve(ctx, authority)
}

// IsDynamicForwardProxy reports a dynamic_forward_proxy cluster.
func (c *Cluster) IsDynamicForwardProxy() bool { return c.dfp.Load() != nil }

func (d *dnsCache) resolve(ctx context.Context, authority string) (*Host, error) {
	d.mu.Lock()
	e := d.hosts[authority]
	full := len(d.hosts) >= int(d.cfg.MaxHosts)
	d.mu.Unlock()
	if e != nil {
		e.used.Store(time.Now().UnixNano())
		return e.h, nil
	}
	if full {
		d.overflow.Inc()
		return nil, fmt.Errorf("%s: %w (max_hosts %d)", authority, ErrDNSCacheOverflow, d.cfg.MaxHosts)
	}
	addr, err := d.lookup(ctx, authority)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if e := d.hosts[authority]; e != nil { // a concurrent request added it
		return e.h, nil
	}
	h := newHost(d.c, authority, 1)
	h.dialAddr.Store(&addr)
	e = &cacheEntry{h: h}
	e.used.Store(time.Now().UnixNano())
	d.hosts[authority] = e
	d.added.Inc()
	d.num.Set(int64(len(d.hosts)))
	return h, nil
}

// lookup resolves authority's name to one "ip:port" by dns_lookup_family.
func (d *dnsCache) lookup(ctx context.Context, authority string) (string, error) {
	name, port, err := net.SplitHostPort(authority)
	if err != nil {
		d.failure.Inc()
		return "", fmt.Errorf("%q: %w: %v", authority, ErrDNSResolution, err)
	}
	d.attempt.Inc()
	addrs, err := d.c.lookup(ctx, d.c.cfg.Load(), name)
	if err == nil {
		if ip := pickFamily(addrs, d.cfg.DNSLookupFamily); ip != "" {
			d.success.Inc()
			return net.JoinHostPort(ip, port), nil
		}
		err = fmt.Errorf("no %s address", d.cfg.DNSLookupFamily)
	}
	d.failure.Inc()
	return "", fmt.Errorf("%s: %w: %v", name, ErrDNSResolution, err)
}

// pickFamily chooses an address as Envoy's dns_lookup_family says.
func pickFamily(addrs []string, family string) string {
	var v4, v6 string
	for _, a := range addrs {
		ip := net.ParseIP(a)
		switch {
		case ip == nil:
		case ip.To4() != nil && v4 == "":
			v4 = a
		case ip.To4() == nil && v6 == "":
			v6 = a
		}
	}
	switch family {
	case "V4_ONLY":
		return v4
	case "V6_ONLY":
		return v6
	case "V4_PREFERRED":
		return cmpOr(v4, v6)
	default: // AUTO (IPv6 first) and ALL
		return cmpOr(v6, v4)
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// refreshLoop resolves cached hosts again every dns_refresh_rate (a failed
// lookup keeps the old address, as Envoy does) and drops hosts unused for
// host_ttl.
func (d *dnsCache) refreshLoop(ctx context.Context) {
	defer d.c.bg.Done()
	t := time.NewTicker(d.cfg.DNSRefreshRate.D())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		d.refreshOnce(ctx)
	}
}

// refreshOnce drops hosts unused for host_ttl and resolves the rest again.
func (d *dnsCache) refreshOnce(ctx context.Context) {
	d.mu.Lock()
	entries := make(map[string]*cacheEntry, len(d.hosts))
	for k, e := range d.hosts {
		if time.Since(time.Unix(0, e.used.Load())) > d.cfg.HostTTL.D() {
			delete(d.hosts, k)
			d.removed.Inc()
			continue
		}
		entries[k] = e
	}
	d.num.Set(int64(len(d.hosts)))
	d.mu.Unlock()
	for k, e := range entries {
		if addr, err := d.lookup(ctx, k); err == nil && addr != e.h.DialAddress() {
			e.h.dialAddr.Store(&addr)
			d.changed.Inc()
		}
	}
}
