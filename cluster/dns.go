package cluster

import (
	"context"
	"net"
	"time"

	"github.com/sluice-proxy/sluice/config"
)

// refreshLoop re-resolves a strict_dns cluster's names every dns_refresh_rate.
func (c *Cluster) refreshLoop(ctx context.Context, cfg *config.Cluster, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(cfg.DNSRefreshRate.D())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.resolveOnce(ctx, cfg)
		}
	}
}

// resolveOnce resolves every endpoint name; each address becomes a host with
// the endpoint's weight. A failed lookup keeps that name's previous hosts, as
// Envoy does, so a DNS outage does not empty the cluster.
func (c *Cluster) resolveOnce(ctx context.Context, cfg *config.Cluster) {
	c.stats.UpdateAttempt.Inc()
	prev := map[string][]config.Endpoint{}
	c.mu.Lock()
	for name, eps := range c.resolved {
		prev[name] = eps
	}
	c.mu.Unlock()
	var eps []config.Endpoint
	failed := false
	next := map[string][]config.Endpoint{}
	for _, e := range cfg.Endpoints {
		host, port, _ := net.SplitHostPort(e.Address)
		rctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout.D())
		addrs, err := c.resolver.LookupHost(rctx, host)
		cancel()
		if err != nil {
			failed = true
			c.log.Warn("dns resolution failed", "name", host, "err", err)
			next[e.Address] = prev[e.Address]
			eps = append(eps, prev[e.Address]...)
			continue
		}
		var mine []config.Endpoint
		for _, a := range addrs {
			mine = append(mine, config.Endpoint{Address: net.JoinHostPort(a, port), Weight: e.Weight})
		}
		next[e.Address] = mine
		eps = append(eps, mine...)
	}
	if ctx.Err() != nil {
		return
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
