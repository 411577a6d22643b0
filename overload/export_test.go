package overload

// SetMonitor replaces a configured monitor's reader (tests drive pressure
// the way Envoy's injected_resource monitor does).
func (m *Manager) SetMonitor(name string, mon Monitor) {
	m.mu.Lock()
	m.monitors[name].m = mon
	m.mu.Unlock()
}
