package tcpproxy

// FlowsStarted counts connections handed to an event loop so far.
func FlowsStarted() uint64 { return flowsStarted.Load() }

// FlowsBulkBack counts flows a loop gave back to the splice path.
func FlowsBulkBack() uint64 { return flowsBulkBack.Load() }
