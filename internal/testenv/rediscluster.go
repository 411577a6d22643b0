package testenv

import (
	"fmt"
	"github.com/sluice-proxy/sluice/internal/poll"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// RedisClusterEnv is a Redis Cluster of cluster-enabled redis-servers joined
// by redis-cli --cluster create, stopped at test end.
type RedisClusterEnv struct {
	t     testing.TB
	nodes []*RedisNode
}

// RedisNode is one server of a RedisClusterEnv. Kill, Stop and Restart work
// as on RedisServer; a restarted node keeps its nodes.conf and rejoins.
type RedisNode struct {
	*RedisServer
	id string
}

// ID returns the node's cluster node ID.
func (n *RedisNode) ID() string { return n.id }

// clusterTimeout bounds each wait for the cluster to agree.
const clusterTimeout = 30 * time.Second

// RedisCluster starts masters*(1+replicasPerMaster) servers, joins them
// (slots spread evenly over the masters), and waits until every node reports
// cluster_state:ok with all 16384 slots served and the same view of who owns
// what. masters must be at least 3 (redis-cli's rule). opts apply to every
// node. External servers (SLUICE_TEST_REDIS_ADDR) are not used.
func RedisCluster(t testing.TB, masters, replicasPerMaster int, opts ...RedisOption) *RedisClusterEnv {
	t.Helper()
	if masters < 3 || replicasPerMaster < 0 {
		t.Fatalf("testenv: RedisCluster(%d, %d): need at least 3 masters", masters, replicasPerMaster)
	}
	cfg := redisConfig{cluster: true}
	for _, o := range opts {
		o(&cfg)
	}
	c := &RedisClusterEnv{t: t}
	create := []string{"--cluster", "create"}
	for range masters * (1 + replicasPerMaster) {
		s, err := startRedis(t, cfg)
		if err != nil {
			t.Fatal(err)
		}
		c.nodes = append(c.nodes, &RedisNode{RedisServer: s})
		create = append(create, s.Addr())
	}
	create = append(create, "--cluster-replicas", strconv.Itoa(replicasPerMaster), "--cluster-yes")
	if out, err := c.nodes[0].CLI(create...); err != nil {
		t.Fatalf("testenv: redis-cli --cluster create: %v\n%s", err, out)
	}
	for _, n := range c.nodes {
		id, err := n.do("CLUSTER", "MYID")
		if err != nil {
			t.Fatalf("testenv: CLUSTER MYID on %s: %v", n.Addr(), err)
		}
		n.id = fmt.Sprint(id)
	}
	c.WaitOK()
	return c
}

// Nodes returns every node, in start order.
func (c *RedisClusterEnv) Nodes() []*RedisNode { return slices.Clone(c.nodes) }

// Addrs returns every node's host:port, for a cluster client's seed list.
func (c *RedisClusterEnv) Addrs() []string {
	addrs := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		addrs[i] = n.Addr()
	}
	return addrs
}

// Node returns the node with the given ID or address, or nil.
func (c *RedisClusterEnv) Node(idOrAddr string) *RedisNode {
	for _, n := range c.nodes {
		if n.id == idOrAddr || n.Addr() == idOrAddr {
			return n
		}
	}
	return nil
}

// Masters returns the nodes that are masters now, as a running node sees it.
func (c *RedisClusterEnv) Masters() []*RedisNode {
	c.t.Helper()
	var ms []*RedisNode
	for _, e := range c.view() {
		if e.master == "" {
			ms = append(ms, c.Node(e.id))
		}
	}
	return ms
}

// Replicas returns the running view's replicas of master.
func (c *RedisClusterEnv) Replicas(master *RedisNode) []*RedisNode {
	c.t.Helper()
	var rs []*RedisNode
	for _, e := range c.view() {
		if e.master == master.id {
			rs = append(rs, c.Node(e.id))
		}
	}
	return rs
}

// Owner returns the master serving slot now.
func (c *RedisClusterEnv) Owner(slot int) *RedisNode {
	c.t.Helper()
	for _, e := range c.view() {
		if e.serves(slot) {
			return c.Node(e.id)
		}
	}
	c.t.Fatalf("testenv: no node serves slot %d", slot)
	return nil
}

// KeySlot returns the hash slot of key, as the cluster computes it.
func (c *RedisClusterEnv) KeySlot(key string) int {
	c.t.Helper()
	v, err := c.anyNode().do("CLUSTER", "KEYSLOT", key)
	if err != nil {
		c.t.Fatalf("testenv: CLUSTER KEYSLOT: %v", err)
	}
	return int(v.(int64))
}

// WaitOK waits until every running node reports cluster_state:ok, all 16384
// slots ok, and the same slot owners and replica links as the others.
func (c *RedisClusterEnv) WaitOK() {
	c.t.Helper()
	var why string
	ok := poll.Until(clusterTimeout, func() bool {
		why = c.notOK()
		return why == ""
	})
	if !ok {
		c.t.Fatalf("testenv: redis cluster not ok after %v: %s", clusterTimeout, why)
	}
}

// notOK says why the cluster is not settled, or "" when it is.
func (c *RedisClusterEnv) notOK() string {
	var first string
	for _, n := range c.nodes {
		if !n.running() {
			continue
		}
		info, err := n.do("CLUSTER", "INFO")
		if err != nil {
			return fmt.Sprintf("%s: CLUSTER INFO: %v", n.Addr(), err)
		}
		s := fmt.Sprint(info)
		if !strings.Contains(s, "cluster_state:ok") || !strings.Contains(s, "cluster_slots_ok:16384") {
			return fmt.Sprintf("%s: %s", n.Addr(), firstLines(s, 4))
		}
		raw, err := n.do("CLUSTER", "NODES")
		if err != nil {
			return fmt.Sprintf("%s: CLUSTER NODES: %v", n.Addr(), err)
		}
		v, err := parseClusterNodes(fmt.Sprint(raw))
		if err != nil {
			return fmt.Sprintf("%s: %v", n.Addr(), err)
		}
		if sig := v.signature(); first == "" {
			first = sig
		} else if sig != first {
			return fmt.Sprintf("nodes disagree: %s sees\n%s\nanother sees\n%s", n.Addr(), sig, first)
		}
	}
	return ""
}

// view returns the cluster as the first running node sees it.
func (c *RedisClusterEnv) view() clusterView {
	c.t.Helper()
	raw, err := c.anyNode().do("CLUSTER", "NODES")
	if err != nil {
		c.t.Fatalf("testenv: CLUSTER NODES: %v", err)
	}
	v, err := parseClusterNodes(fmt.Sprint(raw))
	if err != nil {
		c.t.Fatal(err)
	}
	return v
}

// anyNode returns a running node.
func (c *RedisClusterEnv) anyNode() *RedisNode {
	c.t.Helper()
	for _, n := range c.nodes {
		if n.running() {
			return n
		}
	}
	c.t.Fatal("testenv: no redis cluster node runs")
	return nil
}

// running reports whether the harness has a live process for the server.
func (s *RedisServer) running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.p != nil && !s.p.exited()
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], " ")
}
