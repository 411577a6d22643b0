package tcpproxy

// FlowsStarted counts connections handed to an event loop so far.
func FlowsStarted() uint64 { return flowsStarted.Load() }
