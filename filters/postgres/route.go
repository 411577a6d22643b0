package postgres

import (
	"sync"

	"github.com/sluice-proxy/sluice/router"
)

// compiledRoute is a Route with its matchers compiled at build.
type compiledRoute struct {
	db, user       router.Match
	anyDB, anyUser bool
	serverNames    []string
	cluster        string
}

func compileRoutes(rs []Route) []compiledRoute {
	out := make([]compiledRoute, len(rs))
	for i, r := range rs {
		out[i] = compiledRoute{db: r.Database.Compile(), user: r.User.Compile(),
			anyDB: r.Database == nil, anyUser: r.User == nil, serverNames: r.ServerNames, cluster: r.Cluster}
	}
	return out
}

// route returns the cluster of the first route matching the startup
// message's database and user and the TLS SNI, or "" for the terminal's own.
func (f *Filter) route(db, user, sni string) string {
	for i := range f.routes {
		r := &f.routes[i]
		if (!r.anyDB && !r.db.Match(db)) || (!r.anyUser && !r.user.Match(user)) {
			continue
		}
		if len(r.serverNames) > 0 && !router.MatchServerName(r.serverNames, sni) {
			continue
		}
		return r.cluster
	}
	return ""
}

// cancelRegistry maps the BackendKeyData of routed sessions to their
// cluster, so that a CancelRequest (which names no database) reaches the
// server that runs the query. It is process-wide so that it outlives a
// config reload; entries leave when their session ends.
type cancelRegistry struct {
	mu sync.Mutex
	m  map[cancelKey]string
}

// cancelKey is a backend's cancel identity. The secret is a string because
// protocol 3.2 lets it be up to 256 bytes long.
type cancelKey struct {
	pid    uint32
	secret string
}

var globalCancels = &cancelRegistry{m: make(map[cancelKey]string)}

func (r *cancelRegistry) add(pid uint32, secret string, cluster string) {
	r.mu.Lock()
	r.m[cancelKey{pid, secret}] = cluster
	r.mu.Unlock()
}

func (r *cancelRegistry) remove(pid uint32, secret string) {
	r.mu.Lock()
	delete(r.m, cancelKey{pid, secret})
	r.mu.Unlock()
}

func (r *cancelRegistry) lookup(pid uint32, secret string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.m[cancelKey{pid, secret}]
}
