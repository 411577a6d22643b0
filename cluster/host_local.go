package cluster

// EndRequestReported ends a request begun with BeginRequest that got no answer
// from the host: a local failure (connect, overflow, timeout, reset) that
// whoever saw it already reported to outlier detection with Report.
func (h *Host) EndRequestReported() {
	h.RqActive.Add(-1)
	if h.cluster != nil {
		h.cluster.stats.RqActive.Dec()
	}
}
