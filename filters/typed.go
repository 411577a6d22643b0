package filters

import "fmt"

// Typed makes the Factory of a filter from its typed constructors, so that a
// filter package registers itself in one line:
//
//	func init() { filters.Register(filters.Typed(Name, filters.Terminal, NewConfig, New)) }
//
// newConfig returns a config with its defaults set; build is the filter's New.
// A filter type with a Close method that is not a Closer panics here, at
// registration, rather than leak silently at every reload.
func Typed[C, F any](name string, kind Kind, newConfig func() *C, build func(*C, *Env) (F, error)) Factory {
	checkCloser[F](name)
	return typed[C, F]{name: name, kind: kind, newConfig: newConfig, build: build}
}

type typed[C, F any] struct {
	name      string
	kind      Kind
	newConfig func() *C
	build     func(*C, *Env) (F, error)
}

func (t typed[C, F]) Name() string   { return t.name }
func (t typed[C, F]) Kind() Kind     { return t.kind }
func (t typed[C, F]) NewConfig() any { return t.newConfig() }

func (t typed[C, F]) Build(cfg any, env *Env) (any, error) {
	c, ok := cfg.(*C)
	if !ok {
		return nil, fmt.Errorf("filters: %s: config of type %T, want %T", t.name, cfg, (*C)(nil))
	}
	return t.build(c, env)
}
