package redis

import (
	"github.com/sluice-proxy/sluice/codec/redis"
)

// splitStep returns how many arguments each key of a split-family command
// takes (MSET: key and value), or 0 for other commands.
func splitStep(ci *redis.CommandInfo) int {
	switch ci.Name {
	case "MSET":
		return 2
	case "MGET", "DEL", "UNLINK", "EXISTS", "TOUCH":
		return 1
	}
	return 0
}

// mirrorAll copies a command whose keys (argument indexes) route to rt to
// each of rt's mirrors (reads skipped where exclude_read_commands says so);
// replies are ignored. A split-family command carries only the given keys,
// split again over each mirror cluster's own shards, as Envoy mirrors
// every fragment.
func (c *client) mirrorAll(rt *route, cmd redis.Command, ci *redis.CommandInfo, keys []int) {
	if len(rt.mirrors) == 0 {
		return
	}
	read := ci.Flags.Has(redis.FlagReadOnly)
	step := splitStep(ci)
	for _, m := range rt.mirrors {
		if m.writesOnly && read {
			continue
		}
		if step > 0 {
			c.mirrorSplit(m.rt, cmd, keys, step)
			continue
		}
		c.mirror(m.rt, cmd, keys)
	}
}

// mirrorSplit sends the keys of a split-family command to mirror route rt,
// one command per mirror shard (per slot on a Redis Cluster).
func (c *client) mirrorSplit(rt *route, cmd redis.Command, keys []int, step int) {
	groups := c.groupKeys(cmd.Args, keys, rt, false)
	for _, g := range groups {
		if g.t.hp == nil {
			continue
		}
		b := appendFragment(c.scratch[:0], cmd.Args, g.keys, step, nil)
		c.scratch = b
		c.mirrorSend(g.t.hp, g.t.host, b)
	}
}

// groupKeys groups the keys (argument indexes) of args by shard: by the
// route each key matches when fixed is nil, else all on fixed (a mirror).
// Keys of one shard (one slot on a Redis Cluster) share a group, in order.
func (c *client) groupKeys(args [][]byte, keys []int, fixed *route, read bool) []group {
	var groups []group
	for _, i := range keys {
		key := args[i]
		rt := fixed
		if rt == nil {
			rt = c.p.router.match(key)
		}
		var t target
		slot := -1
		if rt != nil {
			if rt.removePrefix {
				key = key[len(rt.prefix):]
			}
			t.rt = rt
			t.hp, t.host = c.p.pick(rt, key, read)
			if st := rt.state(); st.topo != nil {
				slot = redis.HashSlot(key)
			}
		}
		gi := -1
		for j := range groups {
			if groups[j].t.hp == t.hp && groups[j].t.rt == t.rt && groups[j].slot == slot {
				gi = j
				break
			}
		}
		if gi < 0 {
			groups = append(groups, group{t: t, slot: slot})
			gi = len(groups) - 1
		}
		groups[gi].keys = append(groups[gi].keys, i)
	}
	return groups
}

// appendFragment appends the command args[0] with the given keys (and,
// with step 2, each key's value), stripping a route's prefix when rt says so.
func appendFragment(dst []byte, args [][]byte, keys []int, step int, rt *route) []byte {
	dst = redis.AppendArrayHeader(dst, 1+len(keys)*step)
	dst = redis.AppendBulk(dst, args[0])
	for _, k := range keys {
		key := args[k]
		if rt != nil && rt.removePrefix {
			key = key[len(rt.prefix):]
		}
		dst = redis.AppendBulk(dst, key)
		if step == 2 {
			dst = redis.AppendBulk(dst, args[k+1])
		}
	}
	return dst
}
