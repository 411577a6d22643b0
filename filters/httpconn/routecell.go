package httpconn

import (
	"sync/atomic"

	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/router"
)

// routeCell returns where a manager keeps its route table. A route change
// (RDS) rebuilds the listener's filter chains; connections already open
// keep the manager they started with, and Envoy's rule is that the next
// request on them uses the new routes. So a manager with a named route
// configuration keeps its table in the listener's Retained state under
// the stat prefix and route configuration name: its successor, built for
// the same name, stores the new table there and every manager sharing the
// cell, old or new, reads it per request; the key includes the filter chain
// (filters.Env.Chain). An unnamed (inline) table is the
// manager's own, as Envoy keeps an inline route_config per connection
// until it drains.
func routeCell(cfg *Config, env *filters.Env) *atomic.Pointer[router.Table] {
	name := cfg.RouteConfig.Name
	if name == "" || env == nil {
		return new(atomic.Pointer[router.Table])
	}
	// The chain is part of the key: chains of one listener often share a
	// stat_prefix and a route configuration name ("local_route") while
	// their tables differ.
	key := "http_connection_manager.routes\x00" + env.Chain + "\x00" + cfg.StatPrefix + "\x00" + name
	return env.Retained.Get(key, func() any { return new(atomic.Pointer[router.Table]) }).(*atomic.Pointer[router.Table])
}
