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
	if err := closeMismatch(reflect.TypeFor[F]()); err != nil {
		panic(fmt.Sprintf("filters: %s: %v", name, err))
	}
}

// AsCloser returns a built filter as a Closer (nil when it holds nothing to
// close), and an error when it has a Close method of another signature: the
// server refuses such a filter rather than leak it at every reload. It
// covers factories that do not go through Typed, or build an interface type.
func AsCloser(built any) (Closer, error) {
	if c, ok := built.(Closer); ok {
		return c, nil
	}
	if built == nil {
		return nil, nil
	}
	return nil, closeMismatch(reflect.TypeOf(built))
}

// closeMismatch reports a Close method of t that is not Closer's.
func closeMismatch(t reflect.Type) error {
	m, ok := t.MethodByName("Close")
	if !ok || t.Implements(reflect.TypeFor[Closer]()) {
		return nil
	}
	return fmt.Errorf("%v has Close of type %v, want func() error (filters.Closer)", t, m.Type)
}
