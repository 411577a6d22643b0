// Package overload is Envoy's overload manager for sluice: resource monitors
// (envoy.resource_monitors.fixed_heap, read from Go's runtime/metrics) are
// read every refresh_interval, triggers turn their pressure into action
// values, and the actions shed load: listeners stop accepting or reject new
// connections, the heap is returned to the OS, the connections holding the
// most buffered bytes are reset. The server creates one Manager, applies the
// config's overload_manager section to it on every Apply, and hands its
// Actions to listeners; nothing here is package-global.
package overload

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/stats"
)

// Manager reads the monitors and sets the actions.
type Manager struct {
	scope   *stats.Scope
	log     *slog.Logger
	actions map[string]*Action
	streams StreamSource
	resets  *stats.Counter

	cxActive, cxLimit atomic.Int64 // global_downstream_max_connections

	mu       sync.Mutex // guards the fields below and serializes refreshes
	cfg      *config.OverloadManager
	monitors map[string]*monitorState
	kick     chan struct{} // a new config: refresh now, with the new interval
	stop     chan struct{}
	done     chan struct{}
	lastFree time.Time // the last shrink_heap FreeOSMemory
}

type monitorState struct {
	m               Monitor
	pressure        *stats.Gauge
	failed, skipped *stats.Counter
	value           float64 // the last pressure read
	name            string
}

// New returns a Manager with every known action inactive and no monitors.
// streams lists the connections reset_high_memory_stream may reset; nil
// means none.
func New(root *stats.Scope, log *slog.Logger, streams StreamSource) *Manager {
	m := &Manager{scope: root.Sub("overload"), log: log, streams: streams, actions: map[string]*Action{},
		monitors: map[string]*monitorState{}}
	for _, n := range config.KnownOverloadActions {
		m.actions[n] = &Action{name: n}
	}
	return m
}

// Action returns the handle of a known action (config.Action*), or nil.
func (m *Manager) Action(name string) *Action { return m.actions[name] }

// Apply switches to cfg (nil: no overload manager, every action inactive).
// Monitors whose name and config are unchanged keep their stats; the first
// refresh under the new config runs at once.
func (m *Manager) Apply(cfg *config.OverloadManager) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cfg = cfg
	next := map[string]*monitorState{}
	var limit int64
	if cfg != nil {
		for _, rc := range cfg.ResourceMonitors {
			ms := &monitorState{name: rc.Name}
			sc := m.scope.Sub(rc.Name)
			ms.pressure, ms.failed, ms.skipped = sc.Gauge("pressure"), sc.Counter("failed_updates"), sc.Counter("skipped_updates")
			switch tc := rc.TypedConfig; rc.Name {
			case config.FixedHeapMonitor:
				ms.m = newFixedHeap(tc.MaxHeapSizeBytes)
			case config.DownstreamConnectionsMonitor:
				ms.m = downstreamConns{m: m, max: tc.MaxActiveDownstreamConnections}
				limit = tc.MaxActiveDownstreamConnections
			}
			next[rc.Name] = ms
		}
		for _, ac := range cfg.Actions {
			a := m.actions[ac.Name]
			sc := m.scope.Sub(ac.Name)
			a.active, a.scale = sc.Gauge("active"), sc.Gauge("scale_percent")
			if ac.Name == config.ActionResetHighMemoryStream {
				m.resets = m.scope.Store().Root().Sub(config.ActionResetHighMemoryStream).Counter("count")
			}
		}
	}
	m.monitors = next
	m.cxLimit.Store(limit)
	switch {
	case cfg == nil || len(cfg.Actions) == 0:
		m.stopLoop()
		m.evaluate() // every action back to 0
	case m.stop == nil:
		m.stop, m.done, m.kick = make(chan struct{}), make(chan struct{}), make(chan struct{}, 1)
		go m.loop(m.stop, m.done, m.kick, cfg.RefreshInterval.D())
	default:
		select {
		case m.kick <- struct{}{}:
		default:
		}
	}
}

// Close stops the refresh loop.
func (m *Manager) Close() {
	m.mu.Lock()
	m.stopLoop()
	m.mu.Unlock()
}

// stopLoop ends the refresh goroutine; m.mu is held. The goroutine takes
// m.mu to refresh, so it is told to stop and not waited for under the lock
// beyond its current refresh.
func (m *Manager) stopLoop() {
	if m.stop == nil {
		return
	}
	close(m.stop)
	done := m.done
	m.stop, m.done, m.kick = nil, nil, nil
	m.mu.Unlock()
	<-done
	m.mu.Lock()
}

func (m *Manager) loop(stop, done, kick chan struct{}, every time.Duration) {
	defer close(done)
	t := time.NewTicker(every)
	defer t.Stop()
	m.Refresh()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		case <-kick:
			m.mu.Lock()
			if m.cfg != nil {
				every = m.cfg.RefreshInterval.D()
			}
			m.mu.Unlock()
			t.Reset(every)
		}
		m.Refresh()
	}
}

// Refresh reads every monitor once and updates the actions; the loop calls
// it every refresh_interval.
func (m *Manager) Refresh() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, ms := range m.monitors {
		if ms.m == nil {
			continue
		}
		p, err := ms.m.Pressure()
		if err != nil {
			ms.failed.Inc()
			m.log.Warn("overload: resource monitor update failed", "monitor", ms.name, "err", err)
			continue
		}
		ms.value = p
		ms.pressure.Set(int64(p * 100)) // Envoy's gauge is a percent
	}
	m.evaluate()
}

// evaluate sets each action to the largest value of its triggers (a trigger
// whose monitor failed this time keeps Envoy's behaviour: it does not
// change, here it counts as its last good reading) and runs the actions the
// Manager carries out itself. m.mu is held.
func (m *Manager) evaluate() {
	values := map[string]float64{}
	if m.cfg != nil {
		for _, ac := range m.cfg.Actions {
			v := 0.0
			for _, t := range ac.Triggers {
				ms := m.monitors[t.Name]
				if ms == nil {
					continue
				}
				v = max(v, triggerValue(&t, ms.value))
			}
			values[ac.Name] = v
		}
	}
	for name, a := range m.actions {
		prev := a.Value()
		v := values[name]
		// Logged when the action turns on, saturates, unsaturates or turns
		// off; a scaled value moving within (0, 1) is only in the stats.
		if a.set(v) && ((prev > 0) != (v > 0) || (prev >= 1) != (v >= 1)) {
			m.log.Warn("overload action changed", "action", name, "from", prev, "to", v)
		}
	}
	m.shrinkHeap()
	m.resetStreams()
}

// triggerValue is Envoy's threshold and scaled trigger.
func triggerValue(t *config.OverloadTrigger, pressure float64) float64 {
	if t.Threshold != nil {
		if pressure >= t.Threshold.Value {
			return 1
		}
		return 0
	}
	s := t.Scaled
	switch {
	case pressure <= s.ScalingThreshold:
		return 0
	case pressure >= s.SaturationThreshold:
		return 1
	}
	return (pressure - s.ScalingThreshold) / (s.SaturationThreshold - s.ScalingThreshold)
}
