// Package stats is sluice's stats store: counters, gauges and histograms with
// Envoy's names ("cluster.pg.upstream_cx_total") and Envoy's tag extraction
// (the same stat is exported to Prometheus as
// envoy_cluster_upstream_cx_total{envoy_cluster_name="pg"}).
//
// Handles are resolved once, when a listener, filter or cluster is built, and
// then updated with a single atomic operation: hot paths never look a name up.
// Asking twice for the same name returns the same handle, so a config reload
// that rebuilds a filter keeps counting into the same stats.
package stats

import (
	"sort"
	"sync"
)

// Tag is one label that Prometheus export pulls out of a stat name, such as
// envoy_cluster_name="pg" out of "cluster.pg.upstream_cx_total".
type Tag struct {
	Name  string
	Value string
}

// Store owns every stat of the process. The zero value is not usable; call New.
//
// Stats are kept per scope prefix (groups["cluster.pg."]["upstream_cx_total"])
// rather than in one map by full name: a large xDS update creates some 70
// stats for each of 10,000 clusters, and growing one map to 700,000 entries
// (rehashing as it goes) was a tenth of sluice's CPU in the update; many small
// maps grow cheaply. A full name is found by trying its splits at dots.
type Store struct {
	mu     sync.RWMutex
	groups map[string]map[string]metric
	n      int // stats in all groups
}

// metric is the common view of counters, gauges and histograms for output.
type metric interface {
	info() *meta
}

// meta is what every stat knows of its own name.
type meta struct {
	name      string // full Envoy name
	extracted string // name with tag values removed ("cluster.upstream_cx_total")
	tags      []Tag
}

func (m *meta) info() *meta { return m }

// New returns an empty store.
func New() *Store {
	return &Store{groups: make(map[string]map[string]metric)}
}

// Root returns the scope with no prefix.
func (s *Store) Root() *Scope { return &Scope{store: s} }

// Scope is a name prefix with the tags extracted from it. Scopes are cheap
// values; creating a stat through a scope takes the store's lock, so do it at
// build time, not per request.
type Scope struct {
	store     *Store
	prefix    string // "cluster.pg."
	extracted string // "cluster."
	tags      []Tag
}

// Store returns the store the scope writes to.
func (sc *Scope) Store() *Store { return sc.store }

// Prefix returns the scope's full name prefix, ending in '.' unless empty.
func (sc *Scope) Prefix() string { return sc.prefix }

// Sub returns a child scope whose stats are named "<prefix><name>.". The
// component is kept in the Prometheus name.
func (sc *Scope) Sub(name string) *Scope {
	return &Scope{store: sc.store, prefix: sc.prefix + name + ".", extracted: sc.extracted + name + ".", tags: sc.tags}
}

// Tagged returns a child scope named "<prefix><value>." whose value is
// extracted as the Prometheus label tagName, as Envoy's tag extractors do for
// cluster names, listener addresses and filter stat prefixes.
func (sc *Scope) Tagged(tagName, value string) *Scope {
	tags := make([]Tag, len(sc.tags), len(sc.tags)+1)
	copy(tags, sc.tags)
	tags = append(tags, Tag{Name: tagName, Value: value})
	return &Scope{store: sc.store, prefix: sc.prefix + value + ".", extracted: sc.extracted, tags: tags}
}

func (sc *Scope) meta(name string) meta {
	return meta{name: sc.prefix + name, extracted: sc.extracted + name, tags: sc.tags}
}

// Counter returns the counter "<prefix><name>", creating it on first use.
func (sc *Scope) Counter(name string) *Counter {
	return lookup(sc, name, func(m meta) *Counter { return &Counter{meta: m} })
}

// Gauge returns the gauge "<prefix><name>", creating it on first use.
func (sc *Scope) Gauge(name string) *Gauge {
	return lookup(sc, name, func(m meta) *Gauge { return &Gauge{meta: m} })
}

// Histogram returns the histogram "<prefix><name>", creating it on first use.
// Values are recorded in the stat's own unit (Envoy's *_ms stats: milliseconds).
func (sc *Scope) Histogram(name string) *Histogram {
	return lookup(sc, name, func(m meta) *Histogram { return newHistogram(m) })
}

// lookup returns the existing stat of that name or makes one. Asking for a
// name that exists with another kind panics: that is a programming error.
func lookup[T metric](sc *Scope, name string, mk func(meta) T) T {
	s := sc.store
	s.mu.RLock()
	m, ok := s.groups[sc.prefix][name]
	s.mu.RUnlock()
	if !ok {
		s.mu.Lock()
		// The same full name may have been made through another split
		// (scope "a." name "b.c" and scope "a.b." name "c"): one stat.
		if m, ok = s.find(sc.prefix + name); !ok {
			g := s.groups[sc.prefix]
			if g == nil {
				g = make(map[string]metric)
				s.groups[sc.prefix] = g
			}
			m = mk(sc.meta(name))
			g[name] = m
			s.n++
		}
		s.mu.Unlock()
	}
	t, ok := m.(T)
	if !ok {
		panic("stats: " + sc.prefix + name + " already exists with another type")
	}
	return t
}

// find returns the stat of a full name, trying each split of it into a
// scope prefix (up to and including a dot) and a name. s.mu is held.
func (s *Store) find(full string) (metric, bool) {
	if m, ok := s.groups[""][full]; ok {
		return m, true
	}
	for i := len(full) - 1; i >= 0; i-- {
		if full[i] != '.' {
			continue
		}
		if m, ok := s.groups[full[:i+1]][full[i+1:]]; ok {
			return m, true
		}
	}
	return nil, false
}

// get is find under the read lock.
func (s *Store) get(full string) metric {
	s.mu.RLock()
	defer s.mu.RUnlock()
	m, _ := s.find(full)
	return m
}

// snapshot returns every stat, sorted by name.
func (s *Store) snapshot() []metric {
	s.mu.RLock()
	out := make([]metric, 0, s.n)
	for _, g := range s.groups {
		for _, m := range g {
			out = append(out, m)
		}
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].info().name < out[j].info().name })
	return out
}

// CounterValue returns the value of the named counter and whether it exists;
// for tests and the admin server.
func (s *Store) CounterValue(name string) (uint64, bool) {
	m := s.get(name)
	c, ok := m.(*Counter)
	if !ok {
		return 0, false
	}
	return c.Value(), true
}

// GaugeValue returns the value of the named gauge and whether it exists.
func (s *Store) GaugeValue(name string) (int64, bool) {
	m := s.get(name)
	g, ok := m.(*Gauge)
	if !ok {
		return 0, false
	}
	return g.Value(), true
}

// HistogramSnapshot returns a copy of the named histogram's state.
func (s *Store) HistogramSnapshot(name string) (HistogramData, bool) {
	m := s.get(name)
	h, ok := m.(*Histogram)
	if !ok {
		return HistogramData{}, false
	}
	return h.Snapshot(), true
}

// ResetCounters sets every counter to zero, as Envoy's /reset_counters does
// (gauges and histograms keep their values). A counter reset this way still
// counts as used for ?usedonly.
func (s *Store) ResetCounters() {
	for _, m := range s.snapshot() {
		if c, ok := m.(*Counter); ok {
			c.v.Store(0)
		}
	}
}
