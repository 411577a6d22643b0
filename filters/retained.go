package filters

import "sync"

// Retained is state that outlives reloads of one listener: a filter rebuilt
// by a reload finds what its predecessor kept under the same key (kafka_mesh
// keeps its producer ids there, which clients hold across reconnects). The
// server keeps one per listener name and drops it with the listener. Values
// are shared by the old and new filters while both serve connections, so
// they must be safe for concurrent use.
type Retained struct {
	mu sync.Mutex
	m  map[string]any
}

// Get returns the value kept under key, made by init on first use. A nil
// Retained (a filter built outside a server, in tests) keeps nothing.
func (r *Retained) Get(key string, init func() any) any {
	if r == nil {
		return init()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if v, ok := r.m[key]; ok {
		return v
	}
	if r.m == nil {
		r.m = map[string]any{}
	}
	v := init()
	r.m[key] = v
	return v
}
