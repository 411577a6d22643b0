package zookeeper

import (
	zk "github.com/sluice-proxy/sluice/codec/zookeeper"
	"github.com/sluice-proxy/sluice/filters"
)

// decide feeds a client chunk to the decoder and releases the complete
// frames: allowed ones as they came, refused ones as the replacement
// exists. The bytes of a frame not yet complete stay in c.raw (at most one
// frame, max_packet_bytes).
func (c *conn) decide(chunk []byte) ([]byte, error) {
	c.raw = append(c.raw, chunk...)
	c.verdicts = c.verdicts[:0]
	if err := c.feedReq(chunk); err != nil {
		return nil, err
	}
	if c.word.Load() { // a four-letter word: everything passes
		c.out = append(c.out[:0], c.raw...)
		c.raw = c.raw[:0]
		return c.out, nil
	}
	c.out = c.out[:0]
	off := 0
	for _, v := range c.verdicts {
		if v.deny {
			c.out = zk.AppendExists(c.out, v.xid, deniedPath, false)
		} else {
			c.out = append(c.out, c.raw[off:off+v.size]...)
		}
		off += v.size
	}
	c.raw = append(c.raw[:0], c.raw[off:]...)
	return c.out, nil
}

// gateable says which requests gates judge: operations on znodes, not the
// session's own traffic (connect, ping, auth, close, watches re-set on
// reconnect), which a refusal would break.
func gateable(op zk.Opcode) bool {
	switch op {
	case zk.OpConnect, zk.OpPing, zk.OpSetAuth, zk.OpClose, zk.OpSetWatches, zk.OpSetWatches2, zk.OpSASL, zk.OpWhoAmI:
		return false
	}
	return true
}

// check asks the session's gates about a request; a multi is judged by
// its operations, each on its own (so that an ALLOW policy on a subtree
// lets a multi within it through); the first refusal decides.
func (c *conn) check(r *zk.Request, md *Metadata) filters.SQLVerdict {
	if !gateable(r.Op) {
		return filters.SQLVerdict{}
	}
	var v filters.SQLVerdict
	if r.Op != zk.OpMulti && r.Op != zk.OpMultiRead {
		v = c.s.CheckRequest(&filters.Request{Namespace: MetadataNamespace, Op: md.Opname, Path: md.Path, Metadata: md})
	}
	for i := 0; i < len(r.Ops) && !v.Deny && !v.Close; i++ {
		op := &r.Ops[i]
		sub := requestMetadata(op)
		v = c.s.CheckRequest(&filters.Request{Namespace: MetadataNamespace, Op: sub.Opname, Path: sub.Path, Metadata: sub})
	}
	if v.Deny || v.Close {
		c.f.stats.RequestsDenied.Inc()
		c.log().Info("zookeeper_proxy: request refused", "op", md.Opname, "path", md.Path, "policy", v.Policy)
	}
	return v
}
