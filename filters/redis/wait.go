package redis

import (
	"github.com/sluice-proxy/sluice/codec/redis"
)

// WAIT over multiplexed connections. redis-server answers WAIT from the
// replication offset of the calling connection's last propagated command
// (c->woff), so WAIT on a shared connection would block every client on it
// and WAIT on a fresh connection would return at once. Instead the proxy
// remembers which hosts a client wrote to since its last WAIT; at WAIT it
// waits until every earlier reply of the client is in (its writes have
// executed), then on the client's dedicated connection to each such host
// sends PUBLISH __sluice:wait 0, which standalone redis-server propagates to
// its replicas (so that connection's woff covers the client's writes), and
// the client's WAIT. The reply is the smallest count over the hosts.
//
// On redis_cluster routes PUBLISH travels over the cluster bus and does not
// move the replication offset (checked against redis-server 7 by the
// integration tests), so WAIT after writes there is refused.

var (
	waitPublish        = redis.AppendCommandString(nil, "PUBLISH", "__sluice:wait", "0")
	replyWaitOnCluster = []byte("-ERR WAIT is not supported after writes to a redis_cluster route: " +
		"the proxy cannot make its own connection's replication offset cover them (PUBLISH goes over the cluster bus)\r\n")
)

// writeSet is the host pools a client sent writes to since its last WAIT:
// a few entries, reused, so noting a write allocates nothing once warm.
type writeSet struct {
	pools []*hostPool
}

func (w *writeSet) add(hp *hostPool) {
	for _, p := range w.pools {
		if p == hp {
			return
		}
	}
	w.pools = append(w.pools, hp)
}

func (w *writeSet) reset() {
	clear(w.pools)
	w.pools = w.pools[:0]
}

// writes returns the client's write set.
func (c *client) writes() *writeSet { return &c.writeSet }

// noteWrite records that the client sent a write to hp.
func (c *client) noteWrite(hp *hostPool) {
	if hp != nil {
		c.writes().add(hp)
	}
}

// wait answers WAIT numreplicas timeout; false ends the connection.
func (c *client) wait(cmd redis.Command) bool {
	if !c.drain() {
		return false
	}
	ws := c.writes()
	defer ws.reset()
	pools := ws.pools
	for _, hp := range pools {
		if hp.clusterNode() { // a node of a redis_cluster route
			c.p.stats.UnsupportedCommand.Inc()
			c.reply(replyWaitOnCluster)
			return true
		}
	}
	raw := c.wire(cmd, nil, nil)
	prefix := waitPublish
	if len(pools) == 0 {
		hp := c.firstRoutePool()
		if hp == nil {
			c.reply(replyNoUpstream)
			return true
		}
		pools, prefix = []*hostPool{hp}, nil
	}
	c.reply(c.waitOn(pools, prefix, raw))
	return true
}

// firstRoutePool is where a WAIT with no writes before it goes: the first
// host of the catch-all route, else of the first route.
func (c *client) firstRoutePool() *hostPool {
	rt := c.p.router.catchAll
	if rt == nil && len(c.p.router.routes) > 0 {
		rt = c.p.router.routes[0]
	}
	if rt == nil {
		return nil
	}
	hp, _ := c.p.pickAny(rt)
	return hp
}

// waitOn sends prefix (the PUBLISH, or nothing) and WAIT on the client's
// dedicated connection to each pool, all before reading any reply, so the
// waits run at the same time; it returns the reply for the client.
func (c *client) waitOn(pools []*hostPool, prefix, raw []byte) []byte {
	ds := make([]*dedicated, len(pools))
	req := append(append([]byte(nil), prefix...), raw...)
	fail := func(from int) []byte {
		for i := from; i < len(pools); i++ {
			if ds[i] != nil {
				c.dropDedicated(pools[i])
			}
		}
		return replyUpstreamFailure
	}
	for i, hp := range pools {
		d, err := c.dedicatedTo(hp)
		if err != nil {
			return fail(0)
		}
		ds[i] = d
		if _, err := d.nc.Write(req); err != nil {
			return fail(0)
		}
	}
	stop := c.watchHangup(func() {
		for _, d := range ds {
			d.close()
		}
	})
	defer stop()
	var out []byte
	least := int64(-1)
	for i, d := range ds {
		if prefix != nil {
			r, err := d.readReply()
			if err != nil {
				return fail(i)
			}
			if r[0] == '-' && out == nil {
				out = append([]byte(nil), r...)
			}
		}
		r, err := d.readReply()
		if err != nil {
			return fail(i)
		}
		v, _, err := redis.DecodeReply(r)
		n, isInt := v.Integer()
		switch {
		case out != nil:
		case err != nil || !isInt:
			out = append([]byte(nil), r...)
		case least < 0 || n < least:
			least = n
		}
	}
	if out != nil {
		return out
	}
	return redis.AppendInt(nil, least)
}
