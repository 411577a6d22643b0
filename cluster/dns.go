package cluster

import (
	"context"
	"net"
	"sync"
	"time"

	"github.com/sluice-proxy/sluice/config"
)

// refreshLoop calls resolve every dns_refresh_rate until ctx ends.
func (c *Cluster) refreshLoop(ctx context.Context, cfg *config.Cluster, resolve func(context.Context, *config.Cluster)) {
	defer c.bg.Done()
	t := time.NewTicker(cfg.DNSRefreshRate.D())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			resolve(ctx, cfg)
		}
	}
}

// lookup resolves one endpoint's name, bounded by the connect timeout.
func (c *Cluster) lookup(ctx context.Context, cfg *config.Cluster, host string) ([]string, error) {
	if net.ParseIP(host) != nil {
		return []string{host}, nil
	}
	rctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout.D())
	defer cancel()
	return c.resolver.LookupHost(rctx, host)
}

// resolveOnce resolves every strict_dns endpoint name; each address becomes
// a host with the endpoint's weight. A failed lookup keeps that name's
// previous hosts, as Envoy does, so a DNS outage does not empty the cluster.
// Names are looked up in parallel so one slow name does not delay the rest.
func (c *Cluster) resolveOnce(ctx context.Context, cfg *config.Cluster) {
	c.stats.UpdateAttempt.Inc()
	c.mu.Lock()
	prev := c.resolved
	c.mu.Unlock()
	type answer struct {
		addrs []string
		err   error
	}
	answers := make([]answer, len(cfg.Endpoints))
	var wg sync.WaitGroup
	for i, e := range cfg.Endpoints {
		host, _, _ := net.SplitHostPort(e.Address)
		wg.Go(func() {
			answers[i].addrs, answers[i].err = c.lookup(ctx, cfg, host)
		})
	}
	wg.Wait()
	if ctx.Err() != nil {
		return
	}
	var eps []config.Endpoint
	failed := false
	next := map[string][]config.Endpoint{}
	for i, e := range cfg.Endpoints {
		_, port, _ := net.SplitHostPort(e.Address)
		if err := answers[i].err; err != nil {
			failed = true
			c.log.Warn("dns resolution failed", "name", e.Address, "err", err)
			next[e.Address] = prev[e.Address]
			eps = append(eps, prev[e.Address]...)
			continue
		}
		var mine []config.Endpoint
		name := e.Hostname
		if name == "" {
			name, _, _ = net.SplitHostPort(e.Address) // auto_host_rewrite's Host
		}
		for _, a := range answers[i].addrs {
			ep := e
			ep.Address = net.JoinHostPort(a, port)
			ep.Hostname = name
			mine = append(mine, ep)
		}
		next[e.Address] = mine
		eps = append(eps, mine...)
	}
	if failed {
		c.stats.UpdateFailure.Inc()
	} else {
		c.stats.UpdateSuccess.Inc()
	}
	c.mu.Lock()
	c.resolved = next
	c.mu.Unlock()
	c.setHosts(eps)
}

// resolveLogical resolves a logical_dns cluster's one name and points its one
// host at the first address, which new connections use (Envoy's logical DNS:
// the host stays the same, only where it dials changes). A failed lookup
// keeps the previous address; before any success the dialer resolves the
// name itself.
func (c *Cluster) resolveLogical(ctx context.Context, cfg *config.Cluster) {
	c.stats.UpdateAttempt.Inc()
	hosts := c.Hosts()
	if len(hosts) == 0 {
		return
	}
	h := hosts[0]
	name, port, _ := net.SplitHostPort(h.addr)
	addrs, err := c.lookup(ctx, cfg, name)
	if ctx.Err() != nil {
		return
	}
	if err != nil || len(addrs) == 0 {
		c.stats.UpdateFailure.Inc()
		c.log.Warn("dns resolution failed", "name", h.addr, "err", err)
		return
	}
	c.stats.UpdateSuccess.Inc()
	a := net.JoinHostPort(addrs[0], port)
	h.dialAddr.Store(&a)
}
