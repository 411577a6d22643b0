package xds

import (
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"

	"github.com/sluice-proxy/sluice/internal/guard"
)

// defaultInitialFetchTimeout is Envoy's initial_fetch_timeout.
const defaultInitialFetchTimeout = 15 * time.Second

// initialFetchTimeout reads a config source's initial_fetch_timeout: 0 is
// "wait forever", as in Envoy.
func initialFetchTimeout(cs *corev3.ConfigSource) time.Duration {
	if cs == nil || cs.InitialFetchTimeout == nil {
		return defaultInitialFetchTimeout
	}
	return cs.InitialFetchTimeout.AsDuration()
}

// startWarmTimer makes an EDS cluster that still has no endpoints when its
// initial_fetch_timeout passes go into use without them, as Envoy does, so
// that its listeners start. c.mu is held.
func (c *Client) startWarmTimer(cl *clusterv3.Cluster) {
	d := initialFetchTimeout(cl.GetEdsClusterConfig().GetEdsConfig())
	if d <= 0 || c.stopped {
		return
	}
	name := cl.GetName()
	t := time.AfterFunc(d, func() { c.expire(name) })
	c.timers = append(c.timers, t)
}

// expire ends an EDS cluster's warming and applies the current resources.
func (c *Client) expire(name string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	defer func() {
		if v := recover(); v != nil {
			c.guard.Contain(guard.Recovered(v), "EDS initial fetch timeout", "cluster", name)
		}
	}()
	if c.stopped {
		return
	}
	if _, warming := c.warmed[name]; !warming {
		return
	}
	delete(c.warmed, name)
	c.expired[name] = true
	s := c.eds[name]
	if s == nil {
		s = edsStats(c.o.Stats, name)
		c.eds[name] = s
	}
	s.initTimeout.Inc()
	c.log.Warn("EDS cluster used without endpoints: its initial_fetch_timeout passed", "cluster", name)
	if err := c.build(c.res); err != nil {
		c.log.Error("applying after an initial fetch timeout failed", "cluster", name, "err", err)
	}
}

// stopTimers stops the warming timers (Run's end).
func (c *Client) stopTimers() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopped = true
	for _, t := range c.timers {
		t.Stop()
	}
	c.timers = nil
}
