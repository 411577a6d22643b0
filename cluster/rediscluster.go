package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"github.com/sluice-proxy/sluice/codec/redis"
	"github.com/sluice-proxy/sluice/config"
)

// A redis_cluster cluster (Envoy's envoy.clusters.redis) discovers its own
// hosts: every cluster_refresh_rate, and soon after RefreshRedis (a MOVED
// seen by redis_proxy), it asks a known master, then the seed endpoints, for
// CLUSTER SLOTS. Every master and replica becomes a host of the cluster, so
// nodes get Dial's breakers and upstream_cx_* stats, health checks, outlier
// detection and membership_* gauges; the slot map is published with the
// host set as an immutable RedisSlots that redis_proxy reads per command.
// The refresh counts update_attempt, update_success and update_failure.

// noRedisShard marks a slot no node serves.
const noRedisShard = 0xffff

// maxSlotsReply bounds the CLUSTER SLOTS reply read from one node.
const maxSlotsReply = 4 << 20

// RedisSlots is one immutable slot map of a redis_cluster cluster.
type RedisSlots struct {
	owner  [redis.SlotCount]uint16
	shards []RedisShard
}

// RedisShard is a master and its replicas, hosts of the cluster.
type RedisShard struct {
	Master   *Host
	Replicas []*Host
}

// Shard returns the shard serving slot, nil when no node serves it.
func (s *RedisSlots) Shard(slot int) *RedisShard {
	i := s.owner[slot&(redis.SlotCount-1)]
	if i == noRedisShard {
		return nil
	}
	return &s.shards[i]
}

// Shards returns every shard (do not modify).
func (s *RedisSlots) Shards() []RedisShard { return s.shards }

// RedisAuth is what a redis_cluster's discovery connection sends first.
type RedisAuth struct{ Username, Password string }

// RedisSlots returns the cluster's current slot map; nil before the first
// successful discovery and for other cluster types.
func (c *Cluster) RedisSlots() *RedisSlots { return c.redisSlots.Load() }

// SetRedisAuth sets the credentials discovery sends with AUTH (redis_proxy's
// upstream_auth for this cluster) and asks for a refresh when they change.
func (c *Cluster) SetRedisAuth(a *RedisAuth) {
	if old := c.redisAuth.Swap(a); old == nil || a == nil || *old != *a {
		c.RefreshRedis()
	}
}

// RefreshRedis asks the discovery loop for a refresh soon (Envoy refreshes
// on redirects); it never blocks, and many asks make one refresh.
func (c *Cluster) RefreshRedis() {
	select {
	case c.redisKick <- struct{}{}:
	default:
	}
}

// redisLoop refreshes every cluster_refresh_rate and when kicked, at most
// once per 100ms so that a burst of MOVED replies costs one refresh.
func (c *Cluster) redisLoop(ctx context.Context, cfg *config.Cluster) {
	defer c.bg.Done()
	t := time.NewTicker(cfg.ClusterRefreshRate.D())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-c.redisKick:
			select { // rate limit
			case <-ctx.Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
		c.discoverRedis(ctx, cfg)
	}
}

// discoverRedis reads the slot map from a known master or a seed and
// publishes its nodes as the hosts and its map as RedisSlots.
func (c *Cluster) discoverRedis(ctx context.Context, cfg *config.Cluster) {
	c.stats.UpdateAttempt.Inc()
	var addrs []string
	if m := c.redisSlots.Load(); m != nil {
		for _, sh := range m.shards {
			addrs = append(addrs, sh.Master.DialAddress())
		}
	}
	for _, e := range cfg.Endpoints {
		addrs = append(addrs, e.Address)
	}
	var last error
	for _, a := range addrs {
		ranges, err := c.fetchSlots(ctx, cfg, a)
		if err == nil {
			c.publishSlots(a, ranges)
			c.stats.UpdateSuccess.Inc()
			return
		}
		last = err
		if ctx.Err() != nil {
			return
		}
	}
	c.stats.UpdateFailure.Inc()
	c.log.Warn("redis_cluster discovery failed; the previous slot map stays", "err", last)
}

// fetchSlots asks one node for CLUSTER SLOTS within the connect timeout.
func (c *Cluster) fetchSlots(ctx context.Context, cfg *config.Cluster, addr string) ([]redis.SlotRange, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout.D())
	defer cancel()
	nc, err := c.dialer(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("redis_cluster: connect to %s: %w", addr, err)
	}
	defer nc.Close()
	if dl, ok := ctx.Deadline(); ok {
		nc.SetDeadline(dl)
	}
	var req []byte
	if a := c.redisAuth.Load(); a != nil {
		if a.Username != "" {
			req = redis.AppendCommandString(req, "AUTH", a.Username, a.Password)
		} else {
			req = redis.AppendCommandString(req, "AUTH", a.Password)
		}
	}
	req = redis.AppendCommandString(req, "CLUSTER", "SLOTS")
	if _, err := nc.Write(req); err != nil {
		return nil, fmt.Errorf("redis_cluster: %s: %w", addr, err)
	}
	replies, err := readReplies(nc, 1+btoi(c.redisAuth.Load() != nil))
	if err != nil {
		return nil, fmt.Errorf("redis_cluster: %s: %w", addr, err)
	}
	v := replies[len(replies)-1]
	if len(replies) == 2 && replies[0].IsError() {
		return nil, fmt.Errorf("redis_cluster: %s refused AUTH: %s", addr, replies[0].Str)
	}
	ranges, err := redis.ParseClusterSlots(v)
	if err != nil {
		return nil, fmt.Errorf("redis_cluster: %s: %w", addr, err)
	}
	if len(ranges) == 0 {
		return nil, fmt.Errorf("redis_cluster: %s: no slots served", addr)
	}
	return ranges, nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// readReplies reads n whole replies, at most maxSlotsReply bytes in all.
func readReplies(nc io.Reader, n int) ([]redis.Value, error) {
	buf := make([]byte, 0, 16<<10)
	var out []redis.Value
	for len(out) < n {
		var sc redis.ReplyScanner
		for {
			m, done, err := sc.Scan(buf)
			if err != nil {
				return nil, err
			}
			if done {
				v, _, err := redis.DecodeReply(buf[:m])
				if err != nil {
					return nil, err
				}
				out = append(out, v)
				buf = buf[m:]
				break
			}
			if len(buf) == cap(buf) {
				if cap(buf) >= maxSlotsReply {
					return nil, errors.New("CLUSTER SLOTS reply too large")
				}
				nb := make([]byte, len(buf), 2*cap(buf))
				copy(nb, buf)
				buf = nb
			}
			k, err := nc.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+k]
			if err != nil && k == 0 {
				return nil, err
			}
			sc = redis.ReplyScanner{} // rescan from the start: simple, and replies are small
		}
	}
	return out, nil
}

// publishSlots makes the nodes of ranges the cluster's hosts and publishes
// the slot map over those hosts. from is the node that answered: a node
// listed without a host lives there.
func (c *Cluster) publishSlots(from string, ranges []redis.SlotRange) {
	fromHost, _, _ := net.SplitHostPort(from)
	nodeAddr := func(n redis.NodeAddr) string {
		h := n.Host
		if h == "" {
			h = fromHost
		}
		return net.JoinHostPort(h, strconv.Itoa(n.Port))
	}
	var eps []config.Endpoint
	for _, r := range ranges {
		for _, n := range r.Nodes {
			if n.Host != "?" {
				eps = append(eps, config.Endpoint{Address: nodeAddr(n), Weight: 1})
			}
		}
	}
	c.setHosts(eps)
	byAddr := map[string]*Host{}
	for _, h := range c.Hosts() {
		byAddr[h.addr] = h
	}
	m := &RedisSlots{}
	for i := range m.owner {
		m.owner[i] = noRedisShard
	}
	byMaster := map[string]int{}
	for _, r := range ranges {
		if len(r.Nodes) == 0 || r.Nodes[0].Host == "?" {
			continue
		}
		ma := nodeAddr(r.Nodes[0])
		idx, ok := byMaster[ma]
		if !ok {
			sh := RedisShard{Master: byAddr[ma]}
			for _, n := range r.Nodes[1:] {
				if h := byAddr[nodeAddr(n)]; n.Host != "?" && h != nil {
					sh.Replicas = append(sh.Replicas, h)
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
	c.redisSlots.Store(m)
}
