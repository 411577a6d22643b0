package redis

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluice-proxy/sluice/cluster"
	"github.com/sluice-proxy/sluice/codec/redis"
)

// noShard marks a slot no node serves.
const noShard = 0xffff

// topology is the slot map of one redis_cluster cluster for one Proxy. It
// is read from CLUSTER SLOTS of a known node or a seed: first when the
// Proxy is built, then when a request finds it older than
// cluster_refresh_rate (refreshes are driven by traffic, so an unused
// topology costs no goroutine), and at once after a MOVED.
type topology struct {
	cl   *cluster.Cluster
	auth *Credentials
	p    *Proxy

	m           atomic.Pointer[slotMap]
	refreshing  atomic.Bool
	lastRefresh atomic.Int64
	ready       chan struct{} // closed after the first refresh attempt
	readyOnce   sync.Once

	mu    sync.Mutex
	pools map[string]*hostPool // "addr" for masters, "addr/ro" for replicas
}

// slotMap is one immutable view of the cluster.
type slotMap struct {
	owner  [redis.SlotCount]uint16
	shards []shard
}

type shard struct {
	master   *hostPool
	replicas []*hostPool
}

func getTopology(cl *cluster.Cluster, auth *Credentials, p *Proxy) *topology {
	t := &topology{cl: cl, auth: auth, p: p, ready: make(chan struct{}), pools: map[string]*hostPool{}}
	p.topoMu.Lock()
	p.topos = append(p.topos, t)
	p.topoMu.Unlock()
	t.kick()
	return t
}

// pick returns the pool serving slot for a read or write under policy.
func (t *topology) pick(slot int, read bool, policy string) *hostPool {
	m := t.current()
	if m == nil || m.owner[slot] == noShard {
		return nil
	}
	sh := &m.shards[m.owner[slot]]
	if !read || len(sh.replicas) == 0 {
		if read && policy == "replica" {
			return nil
		}
		return sh.master
	}
	switch policy {
	case "replica", "prefer_replica":
		return sh.replicas[rand.IntN(len(sh.replicas))]
	case "any":
		if i := rand.IntN(len(sh.replicas) + 1); i < len(sh.replicas) {
			return sh.replicas[i]
		}
	}
	return sh.master
}

// current returns the slot map, starting a refresh when it is stale and
// waiting (up to the connect timeout) for the first one.
func (t *topology) current() *slotMap {
	rate := t.cl.Config().ClusterRefreshRate.D()
	if time.Since(time.Unix(0, t.lastRefresh.Load())) > rate {
		t.kick()
	}
	if m := t.m.Load(); m != nil {
		return m
	}
	select {
	case <-t.ready:
	case <-time.After(t.cl.Config().ConnectTimeout.D()):
	}
	return t.m.Load()
}

// kick starts a refresh unless one is running.
func (t *topology) kick() {
	if !t.refreshing.CompareAndSwap(false, true) {
		return
	}
	t.lastRefresh.Store(time.Now().UnixNano())
	t.p.guard.Go("redis_proxy cluster topology refresh", nil, func() {
		defer t.refreshing.Store(false)
		defer t.readyOnce.Do(func() { close(t.ready) })
		if err := t.refresh(); err != nil {
			t.p.log.Warn("redis_proxy: cluster topology refresh failed", "cluster", t.cl.Name(), "err", err)
		}
	}, "cluster", t.cl.Name())
}

// refresh asks known nodes, then the seeds, for CLUSTER SLOTS.
func (t *topology) refresh() error {
	var addrs []string
	if m := t.m.Load(); m != nil {
		for _, sh := range m.shards {
			addrs = append(addrs, sh.master.addr)
		}
	}
	for _, h := range t.cl.Hosts() {
		addrs = append(addrs, h.DialAddress())
	}
	var last error
	for _, a := range addrs {
		m, err := t.fetch(a)
		if err == nil {
			t.m.Store(m)
			return nil
		}
		last = err
	}
	if last == nil {
		last = fmt.Errorf("no seed nodes")
	}
	return last
}

var clusterSlotsCmd = redis.AppendCommandString(nil, "CLUSTER", "SLOTS")

// fetch reads the slot map from one node.
func (t *topology) fetch(addr string) (*slotMap, error) {
	timeout := t.cl.Config().ConnectTimeout.D()
	nc, err := dialAddr(addr, timeout)(context.Background())
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	if err := authenticate(nc, t.auth, timeout); err != nil {
		return nil, err
	}
	nc.SetDeadline(time.Now().Add(timeout))
	d := dedicated{nc: nc}
	r, err := d.roundTrip(clusterSlotsCmd)
	if err != nil {
		return nil, err
	}
	v, _, err := redis.DecodeReply(r)
	if err != nil {
		return nil, fmt.Errorf("redis: CLUSTER SLOTS from %s: %w", addr, err)
	}
	if v.IsError() {
		return nil, fmt.Errorf("redis: CLUSTER SLOTS from %s: %s", addr, v.Str)
	}
	ranges, err := redis.ParseClusterSlots(v)
	if err != nil {
		return nil, fmt.Errorf("redis: CLUSTER SLOTS from %s: %w", addr, err)
	}
	host, _, _ := net.SplitHostPort(addr)
	m := &slotMap{}
	for i := range m.owner {
		m.owner[i] = noShard
	}
	byMaster := map[string]int{}
	for _, r := range ranges {
		if len(r.Nodes) == 0 {
			continue
		}
		nodeAddr := func(n redis.NodeAddr) string {
			h := n.Host
			if h == "" {
				h = host
			}
			return net.JoinHostPort(h, strconv.Itoa(n.Port))
		}
		ma := nodeAddr(r.Nodes[0])
		idx, ok := byMaster[ma]
		if !ok {
			sh := shard{master: t.pool(ma, false)}
			for _, n := range r.Nodes[1:] {
				if n.Host != "?" {
					sh.replicas = append(sh.replicas, t.pool(nodeAddr(n), true))
				}
			}
			idx = len(m.shards)
			m.shards = append(m.shards, sh)
			byMaster[ma] = idx
		}
		for s := r.Start; s <= r.End && s < redis.SlotCount; s++ {
			m.owner[s] = uint16(idx)
		}
	}
	if len(m.shards) == 0 {
		return nil, fmt.Errorf("redis: CLUSTER SLOTS from %s: no slots served", addr)
	}
	return m, nil
}

// pool returns the shared pool of a node; replica pools send READONLY.
func (t *topology) pool(addr string, readonly bool) *hostPool {
	key := addr
	if readonly {
		key += "/ro"
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if hp := t.pools[key]; hp != nil {
		return hp
	}
	timeout := t.cl.Config().ConnectTimeout.D()
	hp := &hostPool{
		addr: addr, auth: t.auth, proxy: t.p, timeout: timeout, readonly: readonly, limit: upLimit(t.cl),
		dial:  dialAddr(addr, timeout),
		conns: make([]atomic.Pointer[upConn], t.p.cfg.Settings.MaxUpstreamConnectionsPerHost),
	}
	t.pools[key] = hp
	return hp
}
