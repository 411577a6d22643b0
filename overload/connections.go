package overload

// envoy.resource_monitors.global_downstream_max_connections is a proactive
// monitor: listeners ask it before taking a connection, instead of it being
// read every refresh. The Manager counts open downstream connections always
// (one atomic add each way); the limit applies while the monitor is
// configured.

// AcquireConnection counts a new downstream connection, or reports false
// when the configured global maximum is open already; a true result must be
// paired with ReleaseConnection.
func (m *Manager) AcquireConnection() bool {
	limit := m.cxLimit.Load()
	if limit <= 0 {
		m.cxActive.Add(1)
		return true
	}
	for {
		n := m.cxActive.Load()
		if n >= limit {
			return false
		}
		if m.cxActive.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

// ReleaseConnection uncounts a connection AcquireConnection counted.
func (m *Manager) ReleaseConnection() { m.cxActive.Add(-1) }

// downstreamConns is the monitor's pressure for triggers: open connections
// over the maximum.
type downstreamConns struct {
	m   *Manager
	max int64
}

func (d downstreamConns) Pressure() (float64, error) {
	return float64(d.m.cxActive.Load()) / float64(d.max), nil
}
