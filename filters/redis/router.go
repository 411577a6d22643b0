package redis

import (
	"bytes"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/sluice-proxy/sluice/cluster"
)

// route is a prefix route. Its cluster is looked up on first use: filters
// are built before the config's clusters are applied.
type route struct {
	prefix       []byte
	removePrefix bool
	*upstream
	mirrors []mirror
}

// upstream is a cluster as routes use it, shared by the routes naming it.
type upstream struct {
	name string
	auth *Credentials
	p    *Proxy
	mgr  *cluster.Manager

	mu sync.Mutex
	st atomic.Pointer[upstreamState]
}

// upstreamState is the resolved cluster: err is set (and logged once) when
// it cannot serve redis_proxy.
type upstreamState struct {
	cluster *cluster.Cluster
	topo    *topology // nil unless the cluster's type is redis_cluster
	// cmds are the cluster's upstream_commands.* (enable_command_stats).
	cmds *upstreamCommands
	err  error
}

// state resolves the cluster on first use.
func (u *upstream) state() *upstreamState {
	if st := u.st.Load(); st != nil {
		return st
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if st := u.st.Load(); st != nil {
		return st
	}
	st := &upstreamState{cluster: u.mgr.Get(u.name)}
	switch {
	case st.cluster == nil:
		st.err = fmt.Errorf("redis_proxy: no such cluster %q", u.name)
	case st.cluster.Config().Type == "redis_cluster":
		st.topo = getTopology(st.cluster, u.auth, u.p)
	}
	if st.cluster != nil {
		// Pools close when their host leaves the cluster.
		p := u.p
		cancel := st.cluster.Subscribe(func(ev cluster.HostEvent) {
			if ev.Kind == cluster.HostRemoved {
				p.dropHost(ev.Host)
			}
		})
		p.topoMu.Lock()
		p.unsub = append(p.unsub, cancel)
		p.topoMu.Unlock()
	}
	if st.cluster != nil && u.p.cfg.Settings.EnableCommandStats {
		st.cmds = newUpstreamCommands(st.cluster.Stats().Scope)
	}
	if st.err != nil {
		u.p.log.Error(st.err.Error())
		if st.cluster == nil {
			return st // a cluster added by a later reload is looked up again
		}
	}
	u.st.Store(st)
	return st
}

// mirror is one request_mirror_policy entry.
type mirror struct {
	rt         *route
	writesOnly bool
}

// router matches keys to routes: longest prefix first, then the catch-all.
// Routes are few, so a scan over prefixes sorted longest-first beats a trie
// on both code and speed.
type router struct {
	routes          []*route
	catchAll        *route
	caseInsensitive bool
}

func newRouter(routes []*route, catchAll *route, ci bool) *router {
	sort.SliceStable(routes, func(i, j int) bool { return len(routes[i].prefix) > len(routes[j].prefix) })
	if ci {
		for _, r := range routes {
			r.prefix = lower(r.prefix)
		}
	}
	return &router{routes: routes, catchAll: catchAll, caseInsensitive: ci}
}

// match returns the route of key, or nil when none applies.
func (rt *router) match(key []byte) *route {
	for _, r := range rt.routes {
		if rt.caseInsensitive {
			if hasPrefixFold(key, r.prefix) {
				return r
			}
		} else if bytes.HasPrefix(key, r.prefix) {
			return r
		}
	}
	return rt.catchAll
}

// hasPrefixFold reports whether key starts with the lower-case prefix,
// ignoring ASCII case.
func hasPrefixFold(key, prefix []byte) bool {
	if len(key) < len(prefix) {
		return false
	}
	for i, c := range prefix {
		k := key[i]
		if k >= 'A' && k <= 'Z' {
			k += 'a' - 'A'
		}
		if k != c {
			return false
		}
	}
	return true
}

func lower(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return out
}
