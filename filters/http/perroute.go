package httpfilter

import (
	"fmt"
	"reflect"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/sluice-proxy/sluice/config"
)

// PerRoute turns a route's raw typed_per_filter_config entry (as the config
// loader keeps it: a YAML-shaped map) into a filter's compiled value, once
// per entry. Entries are keyed by the identity of their map, which lives as
// long as the route table that holds it, so each route keeps the value (and
// any state in it, such as a token bucket) it was first given.
type PerRoute[T any] struct {
	// NewConfig returns a config with defaults set, decoded strictly.
	NewConfig func() any
	// Build compiles a decoded config.
	Build func(cfg any) (T, error)

	cache sync.Map // map pointer -> perRouteEntry[T]
}

type perRouteEntry[T any] struct {
	v   T
	err error
}

// Get returns the compiled value for raw, building it on first use; raw
// must be a mapping. Errors carry the field path under name.
func (p *PerRoute[T]) Get(name string, raw any) (T, error) {
	rv := reflect.ValueOf(raw)
	if rv.Kind() != reflect.Map {
		var zero T
		return zero, fmt.Errorf("typed_per_filter_config.%s: a mapping is needed, got %T", name, raw)
	}
	key := rv.UnsafePointer()
	if e, ok := p.cache.Load(key); ok {
		e := e.(perRouteEntry[T])
		return e.v, e.err
	}
	v, err := p.build(name, raw)
	e, _ := p.cache.LoadOrStore(key, perRouteEntry[T]{v, err})
	return e.(perRouteEntry[T]).v, e.(perRouteEntry[T]).err
}

func (p *PerRoute[T]) build(name string, raw any) (T, error) {
	var zero T
	b, err := yaml.Marshal(raw)
	if err != nil {
		return zero, fmt.Errorf("typed_per_filter_config.%s: %w", name, err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil || len(doc.Content) == 0 {
		return zero, fmt.Errorf("typed_per_filter_config.%s: not a mapping", name)
	}
	cfg := p.NewConfig()
	errs := &config.Errors{}
	(&config.Decoder{Errs: errs}).Decode(config.Join("typed_per_filter_config", name), doc.Content[0], cfg)
	if err := errs.Err(); err != nil {
		return zero, err
	}
	return p.Build(cfg)
}
