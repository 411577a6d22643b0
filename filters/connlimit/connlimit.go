// Package connlimit is the connection_limit network filter, after Envoy's
// envoy.filters.network.connection_limit: at most max_connections
// connections of a filter chain are served at once; more are closed, after
// an optional delay, and counted.
package connlimit

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/stats"
)

// Name is the filter's config key.
const Name = "connection_limit"

func init() {
	filters.Register(filters.Typed(Name, filters.Observer, NewConfig, New))
}

// Filter is a built connection_limit filter: one count shared by the
// connections of its chain (a reload builds a new filter, as Envoy builds a
// new filter chain).
type Filter struct {
	max     int64
	delay   time.Duration
	enabled bool
	active  atomic.Int64
	st      Stats
}

// Stats are Envoy's connection_limit.<stat_prefix>.* stats.
type Stats struct {
	LimitedConnections *stats.Counter
	ActiveConnections  *stats.Gauge
}

// New builds the filter from a validated config.
func New(c *Config, env *filters.Env) (*Filter, error) {
	sc := env.Stats.Sub("connection_limit").Tagged("envoy_connection_limit_prefix", c.StatPrefix)
	return &Filter{max: int64(c.MaxConnections), delay: c.Delay.D(), enabled: c.RuntimeEnabled.Enabled(),
		st: Stats{LimitedConnections: sc.Counter("limited_connections"), ActiveConnections: sc.Gauge("active_connections")}}, nil
}

// Stats returns the filter's stat handles.
func (f *Filter) Stats() *Stats { return &f.st }

// errLimited is the reason a refused connection is closed with.
var errLimited = fmt.Errorf("connection_limit: too many connections")

// Observe admits the connection while fewer than max are open; otherwise
// it waits out the delay (reading nothing) and refuses it.
func (f *Filter) Observe(s *filters.Session, c filters.Conn) (filters.Conn, error) {
	if !f.enabled {
		return c, nil
	}
	if f.active.Add(1) > f.max {
		f.active.Add(-1)
		f.st.LimitedConnections.Inc()
		s.UpdateAccess(func(a *filters.AccessRecord) { a.TerminationReason = "connection_limit" })
		if f.delay > 0 {
			t := time.NewTimer(f.delay)
			defer t.Stop()
			<-t.C
		}
		return nil, errLimited
	}
	f.st.ActiveConnections.Inc()
	s.OnClose(func() {
		f.active.Add(-1)
		f.st.ActiveConnections.Dec()
	})
	return c, nil
}

var _ filters.ObserverFilter = (*Filter)(nil)
