package postgres

import (
	"strings"
	"sync"
)

// matches reports whether v satisfies m; an empty matcher matches anything.
func (m StringMatch) matches(v string) bool {
	switch {
	case m.Exact != "":
		return v == m.Exact
	case m.Prefix != "":
		return strings.HasPrefix(v, m.Prefix)
	}
	return true
}

// route returns the cluster of the first route matching the startup
// message's database and user and the TLS SNI, or "" for the terminal's own.
func (f *Filter) route(db, user, sni string) string {
	for i := range f.cfg.Routes {
		r := &f.cfg.Routes[i]
		if !r.Database.matches(db) || !r.User.matches(user) {
			continue
		}
		if len(r.ServerNames) > 0 && !containsFold(r.ServerNames, sni) {
			continue
		}
		return r.Cluster
	}
	return ""
}

func containsFold(list []string, v string) bool {
	for _, s := range list {
		if strings.EqualFold(s, v) {
			return true
		}
	}
	return false
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
