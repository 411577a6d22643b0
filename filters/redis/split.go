package redis

import (
	"strconv"
	"sync/atomic"
	"time"

	"github.com/sluice-proxy/sluice/codec/redis"
)

// How a split command's fragment replies are merged.
const (
	mergeArray = iota // MGET: elements placed back in key order
	mergeSum          // DEL, UNLINK, EXISTS, TOUCH: integers added
	mergeOK           // MSET: +OK when every fragment said OK
)

// split is a multi-key command sent as one command per shard.
type split struct {
	top     *slot
	kind    int
	nkeys   int
	frags   []*slot
	pos     [][]int // per fragment, the key ordinals it carries (mergeArray)
	pending atomic.Int32
}

// group collects the keys of one shard while a command is split.
type group struct {
	t    target
	slot int   // Redis Cluster slot (a cluster node wants one slot per command); -1 otherwise
	keys []int // argument indexes of the keys
}

// split routes each key of MGET/MSET/DEL/UNLINK/EXISTS/TOUCH; keys of one
// shard travel in one command, and the replies are merged in key order.
func (c *client) split(cmd redis.Command, ci *redis.CommandInfo, cs *CommandStats) {
	step := 1
	kind := mergeSum
	switch ci.Name {
	case "MGET":
		kind = mergeArray
	case "MSET":
		kind, step = mergeOK, 2
		if (len(cmd.Args)-1)%2 != 0 {
			c.p.stats.InvalidRequest.Inc()
			c.reply(redis.AppendWrongArity(nil, "mset"))
			return
		}
	}
	read := ci.Flags.Has(redis.FlagReadOnly)
	keys := c.keyIdx[:0]
	for i := 1; i < len(cmd.Args); i += step {
		keys = append(keys, i)
	}
	c.keyIdx = keys
	groups := c.groupKeys(cmd.Args, keys, nil, read)
	noHost := false
	for _, g := range groups {
		noHost = noHost || g.t.hp == nil
	}
	if len(groups) == 1 && !noHost {
		c.forward(cmd, ci, groups[0].keys, cs)
		return
	}
	top := c.enqueue()
	if top == nil {
		return
	}
	if cs != nil {
		top.cs, top.start = cs, time.Now()
	}
	top.span = c.p.startSpan(cmd) // ended with the merged reply (completeLocal)
	sp := &split{top: top, kind: kind, nkeys: (len(cmd.Args) - 1) / step}
	sp.frags = make([]*slot, len(groups))
	if kind == mergeArray {
		sp.pos = make([][]int, len(groups))
	}
	sp.pending.Store(int32(len(groups)))
	for gi := range groups {
		s := newSlot(nil)
		s.parent, s.index = sp, gi
		sp.frags[gi] = s
	}
	for gi, g := range groups {
		s := sp.frags[gi]
		if sp.pos != nil {
			for _, k := range g.keys {
				sp.pos[gi] = append(sp.pos[gi], (k-1)/step)
			}
		}
		if g.t.hp == nil {
			s.complete(replyNoUpstream, false)
			continue
		}
		b := appendFragment(c.scratch[:0], cmd.Args, g.keys, step, g.t.rt)
		c.scratch = b
		c.sendSlot(g.t, b, s, ci)
		if !read {
			c.noteWrite(g.t.hp)
		}
	}
	c.mirrorGroups(cmd, ci, groups)
}

// mirrorGroups mirrors a split command: per route, the keys it routed.
func (c *client) mirrorGroups(cmd redis.Command, ci *redis.CommandInfo, groups []group) {
	for i, g := range groups {
		if g.t.rt == nil || len(g.t.rt.mirrors) == 0 {
			continue
		}
		seen := false
		for _, h := range groups[:i] {
			seen = seen || h.t.rt == g.t.rt
		}
		if seen {
			continue // this route's keys went with its first group
		}
		var keys []int
		for _, h := range groups[i:] {
			if h.t.rt == g.t.rt {
				keys = append(keys, h.keys...)
			}
		}
		c.mirrorAll(g.t.rt, cmd, ci, keys)
	}
}

// fragmentDone is called once per fragment; the last one merges.
func (sp *split) fragmentDone() {
	if sp.pending.Add(-1) != 0 {
		return
	}
	var out []byte
	switch sp.kind {
	case mergeArray:
		out = sp.mergeArray()
	default:
		var sum int64
		errs := 0
		for _, f := range sp.frags {
			r := f.reply.bytes()
			switch {
			case sp.kind == mergeOK && len(r) > 0 && r[0] == '+':
			case sp.kind == mergeSum && len(r) > 3 && r[0] == ':':
				n, err := strconv.ParseInt(string(r[1:len(r)-2]), 10, 64)
				if err != nil {
					errs++
				}
				sum += n
			default:
				errs++
			}
		}
		switch {
		case errs > 0:
			out = []byte("-ERR finished with " + strconv.Itoa(errs) + " error(s)\r\n")
		case sp.kind == mergeOK:
			out = okReply
		default:
			out = redis.AppendInt(nil, sum)
		}
	}
	for _, f := range sp.frags {
		f.release()
	}
	top := sp.top
	if top.cs != nil {
		top.cs.Latency.Record(float64(time.Since(top.start).Microseconds()) / 1000)
		if out[0] == '-' {
			top.cs.Error.Inc()
		} else {
			top.cs.Success.Inc()
		}
	}
	top.completeLocal(out)
}

// mergeArray rebuilds an MGET reply: each fragment's elements go back to
// their keys' positions; a fragment that failed gives its error to each of
// its keys.
func (sp *split) mergeArray() []byte {
	elems := make([][]byte, sp.nkeys)
	for fi, f := range sp.frags {
		r := f.reply.bytes()
		items := arrayItems(r, len(sp.pos[fi]))
		for j, k := range sp.pos[fi] {
			if items != nil {
				elems[k] = items[j]
			} else if len(r) > 0 && r[0] == '-' {
				elems[k] = r
			} else {
				elems[k] = []byte("-ERR upstream protocol error\r\n")
			}
		}
	}
	n := 16
	for _, e := range elems {
		n += len(e)
	}
	out := redis.AppendArrayHeader(make([]byte, 0, n), sp.nkeys)
	for _, e := range elems {
		out = append(out, e...)
	}
	return out
}

// arrayItems splits an array reply of exactly n elements into the raw
// bytes of each, or returns nil.
func arrayItems(r []byte, n int) [][]byte {
	if len(r) < 4 || r[0] != '*' {
		return nil
	}
	end := 1
	for end < len(r) && r[end] != '\r' {
		end++
	}
	cnt, err := strconv.Atoi(string(r[1:end]))
	if err != nil || cnt != n || end+2 > len(r) {
		return nil
	}
	items := make([][]byte, 0, n)
	b := r[end+2:]
	for i := 0; i < n; i++ {
		l, err := redis.FrameReply(b)
		if err != nil || l == 0 {
			return nil
		}
		items = append(items, b[:l])
		b = b[l:]
	}
	return items
}
