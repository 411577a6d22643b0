package stats

// Counters returns every counter's value by full name: what a hot restart
// hands to the process that replaces this one.
func (s *Store) Counters() map[string]uint64 {
	out := map[string]uint64{}
	for _, m := range s.snapshot() {
		if c, ok := m.(*Counter); ok {
			out[m.info().name] = c.Value()
		}
	}
	return out
}

// AddCounters adds each value to the counter of that name, when this store
// has one, and returns how many it added. Counters this process has not
// created (a stat_prefix the new config no longer has) are not carried:
// only a scope knows a name's tags.
func (s *Store) AddCounters(values map[string]uint64) int {
	n := 0
	s.mu.RLock()
	defer s.mu.RUnlock()
	for name, v := range values {
		m, _ := s.find(name)
		if c, ok := m.(*Counter); ok && v > 0 {
			c.Add(v)
			n++
		}
	}
	return n
}

// Histograms returns a copy of each histogram whose name keep accepts (nil:
// all), for the admin's dashboard.
func (s *Store) Histograms(keep func(name string) bool) map[string]HistogramData {
	out := map[string]HistogramData{}
	for _, m := range s.snapshot() {
		if h, ok := m.(*Histogram); ok && (keep == nil || keep(m.info().name)) {
			out[m.info().name] = h.Snapshot()
		}
	}
	return out
}
