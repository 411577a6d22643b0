package filters

import (
	"fmt"
	"reflect"
)

// Closer is the lifecycle contract of a built filter that holds resources
// beyond its connections (upstream pools, franz-go clients, goroutines).
// The server closes such a filter exactly once: when a reload or shutdown
// retires its chain set and the set's last connection has ended, or at once
// when the build of the config it belongs to fails. Close must not block on
// connections of other chain sets; its error is logged.
//
// A filter package asserts it at compile time next to the type
// (var _ filters.Closer = (*Mesh)(nil)), and Typed refuses at registration a
// filter whose Close has another signature, which the server's check would
// otherwise miss without a word.
type Closer interface {
	Close() error
}

// checkCloser panics when F has a Close method that does not satisfy Closer.
func checkCloser[F any](name string) {
	t := reflect.TypeFor[F]()
	m, ok := t.MethodByName("Close")
	if !ok {
		return
	}
	if !t.Implements(reflect.TypeFor[Closer]()) {
		panic(fmt.Sprintf("filters: %s: %v has Close of type %v, want func() error (filters.Closer)", name, t, m.Type))
	}
}
