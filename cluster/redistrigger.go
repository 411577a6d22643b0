package cluster

import (
	"sync"
	"time"
)

// Envoy's defaults for the refreshes redirects trigger.
const (
	defaultRedirectRefreshThreshold = 5
	defaultRedirectRefreshInterval  = 5 * time.Second
)

// redisTriggers counts the events that make a redis_cluster read its slot
// map before cluster_refresh_rate: redirects (redirect_refresh_threshold)
// and upstream failures (failure_refresh_threshold). After a triggered
// refresh, events are ignored for redirect_refresh_interval, as in Envoy.
type redisTriggers struct {
	mu                  sync.Mutex
	redirects, failures uint32
	last                time.Time // the last triggered refresh
}

// RedisRedirected counts a MOVED or ASK reply from a node; at
// redirect_refresh_threshold of them the slot map is read again.
func (c *Cluster) RedisRedirected() {
	cfg := c.cfg.Load()
	th := uint32(defaultRedirectRefreshThreshold)
	if cfg.RedirectRefreshThreshold != nil {
		th = *cfg.RedirectRefreshThreshold
	}
	c.redisTrigger(th, func(t *redisTriggers) *uint32 { return &t.redirects })
}

// redisFailed counts an upstream failure of a redis_cluster node.
func (c *Cluster) redisFailed() {
	cfg := c.cfg.Load()
	if cfg.Type != "redis_cluster" || cfg.FailureRefreshThreshold == 0 {
		return
	}
	c.redisTrigger(cfg.FailureRefreshThreshold, func(t *redisTriggers) *uint32 { return &t.failures })
}

func (c *Cluster) redisTrigger(threshold uint32, counter func(*redisTriggers) *uint32) {
	if threshold == 0 {
		return
	}
	iv := c.cfg.Load().RedirectRefreshInterval.D()
	if iv <= 0 {
		iv = defaultRedirectRefreshInterval
	}
	t := &c.redisTrig
	t.mu.Lock()
	now := time.Now()
	if !t.last.IsZero() && now.Sub(t.last) < iv {
		t.mu.Unlock()
		return
	}
	n := counter(t)
	*n++
	hit := *n >= threshold
	if hit {
		t.redirects, t.failures, t.last = 0, 0, now
	}
	t.mu.Unlock()
	if hit {
		c.RefreshRedis()
	}
}
