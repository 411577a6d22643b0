package filters

// DynamicListeners lets a filter open listeners while it serves, such as
// kafka_broker's one listener per discovered broker. The server owns them as
// it owns configured listeners: they count in listener.<address>.* stats,
// show in /listeners (named "<owning listener>/<name>"), write the owning
// listener's access log, drain on Close, and stop with the owning listener
// (when a reload removes it, and at shutdown).
type DynamicListeners interface {
	// Listen starts a listener named name on addr (host:port; port 0 lets
	// the kernel pick) that serves each connection through chain. When a
	// listener of that name and addr runs already, it keeps its socket and
	// serves new connections through chain from now on (its open
	// connections keep the chain they started with), and the handle it was
	// given before no longer closes it: the caller takes it over.
	Listen(name, addr string, chain DynamicChain) (DynamicListener, error)
}

// DynamicChain is what a dynamic listener serves a connection through.
type DynamicChain struct {
	Observers []ObserverFilter
	Terminal  TerminalFilter
}

// DynamicListener is one listener a filter opened.
type DynamicListener interface {
	// Addr is the bound address.
	Addr() string
	// Close stops accepting and lets open connections finish until the
	// drain timeout. It does nothing once another Listen took the listener
	// over, or after the server stopped it.
	Close()
}
