// Package filters is the network filter contract and registry. Each filter
// lives in a package below this one and registers a Factory in its init.
//
// A connection runs through one filter chain: zero or more observers, then
// exactly one terminal.
//
//   - An Observer is called once per connection and returns the Conn the rest
//     of the chain uses: the same Conn to stay out of the data path (a gate that
//     decides on connect), or a wrapper that sees every byte in both directions
//     (Tap makes one). It may also read from the connection before returning,
//     for instance to take a protocol's startup message or to terminate TLS,
//     and it publishes what it learns in the Session's metadata.
//   - A Terminal owns the connection from then on: it picks an upstream and
//     moves the bytes or the requests. When no observer wrapped the connection
//     it receives the raw *net.TCPConn and can let the kernel splice; an
//     observer whose wrapper implements Handoverable lets tcp_proxy's event
//     loops move the bytes and call it per chunk instead.
package filters

import (
	"context"
	"fmt"
	"net"
	"sort"
	"sync"

	"github.com/sluice-proxy/sluice/config"
)

// Kind says where a filter may stand in a chain.
type Kind int

const (
	// Observer filters see or gate the connection and pass it on.
	Observer Kind = iota
	// Terminal filters own the connection; one per chain, last.
	Terminal
)

// Conn is a downstream connection as a filter sees it. Raw TCP, TLS and
// observer wrappers all satisfy it.
type Conn interface {
	net.Conn
	// CloseWrite shuts down the writing side (half-close).
	CloseWrite() error
}

// ObserverFilter is built once per config load and called once per connection.
// Implementations must be safe for concurrent use by many connections.
type ObserverFilter interface {
	// Observe returns the Conn the next filter uses. An error closes the
	// connection; the error is logged once, by the server, with the session.
	Observe(s *Session, c Conn) (Conn, error)
}

// TerminalFilter is built once per config load and serves each connection.
type TerminalFilter interface {
	// Serve owns c until it returns; the server closes c afterwards. ctx is
	// cancelled when the server gives up on the connection (drain deadline).
	Serve(ctx context.Context, s *Session, c Conn)
}

// Factory builds a filter from its typed config. Register one per filter.
type Factory interface {
	// Name is the key used in config ("tcp_proxy").
	Name() string
	// Kind is Observer or Terminal.
	Kind() Kind
	// NewConfig returns a pointer to a new typed config with its defaults set.
	// The config loader decodes YAML into it strictly and then calls its
	// Validate(path string, errs *config.Errors) method if it has one.
	NewConfig() any
	// Build makes the filter; it returns an ObserverFilter or a
	// TerminalFilter according to Kind. It runs once per config load.
	Build(cfg any, env *Env) (any, error)
}

var (
	regMu    sync.RWMutex
	registry = map[string]Factory{}
)

// Register adds a filter factory. It panics on a nil factory, an empty name or
// a name already taken: those are programming errors, found at start-up.
func Register(f Factory) {
	if f == nil {
		panic("filters: Register of nil factory")
	}
	name := f.Name()
	if name == "" {
		panic("filters: Register of factory with empty name")
	}
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := registry[name]; dup {
		panic(fmt.Sprintf("filters: %q registered twice", name))
	}
	registry[name] = f
	config.RegisterFilterType(configType(f))
}

// Lookup returns the factory registered under name.
func Lookup(name string) (Factory, bool) {
	regMu.RLock()
	defer regMu.RUnlock()
	f, ok := registry[name]
	return f, ok
}

// Names returns the registered filter names, sorted.
func Names() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	out := make([]string, 0, len(registry))
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
