// Package httpfilter is the HTTP filter contract of http_connection_manager
// and its registry. An HTTP filter is middleware over net/http's types: its
// Wrap returns a handler that runs before the next one. That one shape covers
// Envoy's six callbacks:
//
//   - decode headers: inspect or change *http.Request, answer it (write a
//     response and do not call next) or pass it on;
//   - decode data and trailers: replace r.Body with a reader over it;
//     r.Trailer is filled when the body reaches EOF;
//   - encode headers, data and trailers: pass next a ResponseWriter that
//     wraps w (WriteHeader, Write, trailers as http.TrailerPrefix keys).
//
// Per-request state shared with the connection manager (the matched route,
// the cluster, Envoy's response flags) is the Stream in the request's
// context (FromContext). The router is not a registered filter: the
// connection manager puts its own forwarding handler last, where Envoy
// requires envoy.filters.http.router.
package httpfilter

import (
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"sync"

	"github.com/sluice-proxy/sluice/cluster"
	"github.com/sluice-proxy/sluice/stats"
)

// Filter is a built HTTP filter, shared by every stream of every connection
// of a filter chain: Wrap runs once per config build, and the handler it
// returns must be safe for concurrent use.
type Filter interface {
	Wrap(next http.Handler) http.Handler
}

// Env is what a filter's Build may use.
type Env struct {
	// Stats is the connection manager's scope (http.<stat_prefix>).
	Stats    *stats.Scope
	Clusters *cluster.Manager
	Log      *slog.Logger
	// HealthCheckFailed reports whether the server fails health checks
	// (admin POST /healthcheck/fail, or /drain_listeners); nil: never.
	HealthCheckFailed func() bool
}

// Factory makes one kind of HTTP filter.
type Factory struct {
	// Name is the key in http_filters ("router"); the Envoy loader maps
	// Envoy's name (envoy.filters.http.router) to it.
	Name string
	// NewConfig returns a pointer to a typed config with defaults set; it
	// is decoded strictly and validated like network filter configs.
	NewConfig func() any
	// Build makes the filter from its decoded config; nil for the router,
	// which the connection manager supplies itself.
	Build func(cfg any, env *Env) (Filter, error)
}

var (
	mu       sync.RWMutex
	registry = map[string]Factory{}
)

// Register adds an HTTP filter factory; it panics on an empty name, a nil
// NewConfig or a name already taken.
func Register(f Factory) {
	if f.Name == "" || f.NewConfig == nil {
		panic("httpfilter: Register needs a name and NewConfig")
	}
	mu.Lock()
	defer mu.Unlock()
	if _, dup := registry[f.Name]; dup {
		panic(fmt.Sprintf("httpfilter: %q registered twice", f.Name))
	}
	registry[f.Name] = f
}

// Lookup returns the factory registered under name.
func Lookup(name string) (Factory, bool) {
	mu.RLock()
	defer mu.RUnlock()
	f, ok := registry[name]
	return f, ok
}

// Names returns the registered names, sorted.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	out := make([]string, 0, len(registry))
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Chain folds filters around last, the first filter outermost.
func Chain(fs []Filter, last http.Handler) http.Handler {
	h := last
	for i := len(fs) - 1; i >= 0; i-- {
		h = fs[i].Wrap(h)
	}
	return h
}
