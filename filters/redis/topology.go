package redis

import (
	"math/rand/v2"
	"sync"

	"github.com/sluice-proxy/sluice/cluster"
)

// topology is one Proxy's view of a redis_cluster cluster. Discovery is the
// cluster's (cluster/rediscluster.go): its nodes are the cluster's hosts and
// its slot map is cluster.RedisSlots; topology only maps a slot to the
// pool of the host serving it, and keeps pools for redirect targets the
// slot map does not know yet (a node being added).
type topology struct {
	cl   *cluster.Cluster
	auth *Credentials
	p    *Proxy

	mu      sync.Mutex
	unknown map[string]*hostPool // redirect targets that are not hosts yet
}

func getTopology(cl *cluster.Cluster, auth *Credentials, p *Proxy) *topology {
	t := &topology{cl: cl, auth: auth, p: p, unknown: map[string]*hostPool{}}
	if auth != nil {
		cl.SetRedisAuth(&cluster.RedisAuth{Username: auth.Username, Password: auth.Password})
	}
	p.topoMu.Lock()
	p.topos = append(p.topos, t)
	p.topoMu.Unlock()
	return t
}

// pick returns the pool and host serving slot for a read or write under
// policy; nil when no node serves it.
func (t *topology) pick(slot int, read bool, policy string) (*hostPool, *cluster.Host) {
	m := t.cl.RedisSlots()
	if m == nil {
		return nil, nil
	}
	sh := m.Shard(slot)
	if sh == nil || sh.Master == nil {
		return nil, nil
	}
	h, ro := sh.Master, false
	if read && len(sh.Replicas) > 0 {
		switch policy {
		case "replica", "prefer_replica":
			h, ro = sh.Replicas[rand.IntN(len(sh.Replicas))], true
		case "any":
			if i := rand.IntN(len(sh.Replicas) + 1); i < len(sh.Replicas) {
				h, ro = sh.Replicas[i], true
			}
		}
	} else if read && policy == "replica" {
		return nil, nil
	}
	return t.p.hostPool(t.cl, t.auth, h, ro), h
}

// redirected tells the cluster of a MOVED or ASK; enough of them
// (redirect_refresh_threshold) make it read its slot map again.
func (t *topology) redirected() { t.cl.RedisRedirected() }

// pool returns the pool of a redirect target: the host with that address,
// or a pool of its own for a node the slot map does not list yet.
func (t *topology) pool(addr string) (*hostPool, *cluster.Host) {
	for _, h := range t.cl.Hosts() {
		if h.Address() == addr {
			return t.p.hostPool(t.cl, t.auth, h, false), h
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if hp := t.unknown[addr]; hp != nil {
		return hp, nil
	}
	timeout := t.cl.Config().ConnectTimeout.D()
	hp := &hostPool{
		addr: addr, auth: t.auth, proxy: t.p, timeout: timeout, limit: upLimit(t.cl),
		dial: dialAddr(addr, timeout),
	}
	hp.init(t.p.cfg.Settings.MaxUpstreamConnectionsPerHost)
	t.unknown[addr] = hp
	return hp, nil
}

// closeAll closes the pools of unknown nodes.
func (t *topology) closeAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for a, hp := range t.unknown {
		hp.closeAll()
		delete(t.unknown, a)
	}
}
