package redis

import (
	"github.com/sluice-proxy/sluice/codec/redis"
)

// maxTxCommands bounds a queued transaction's commands; its bytes are
// bounded by per_connection_buffer_limit_bytes (it is held until EXEC).
const maxTxCommands = 10000

// txState is a MULTI ... EXEC transaction being queued by the proxy. The
// commands are sent at EXEC as one contiguous MULTI ... EXEC batch on the
// shard's shared connection (appended in one critical section, so no other
// client's command can fall between them): the connection is pinned for
// exactly the transaction, at no cost to others.
type txState struct {
	buf     []byte
	n       int
	t       target
	hasT    bool
	aborted bool
}

var (
	replyQueued    = []byte("+QUEUED\r\n")
	replyExecAbort = []byte("-EXECABORT Transaction discarded because of previous errors.\r\n")
)

// txCommand handles a command while a transaction is open.
func (c *client) txCommand(cmd redis.Command, ci *redis.CommandInfo) bool {
	tx := c.tx
	fail := func(reply []byte) bool {
		tx.aborted = true
		c.reply(reply)
		return true
	}
	if ci == nil {
		c.p.stats.UnsupportedCommand.Inc()
		return fail(unsupportedReply(cmd.Args[0]))
	}
	if !ci.ArityOK(len(cmd.Args)) {
		c.p.stats.InvalidRequest.Inc()
		return fail(redis.AppendWrongArity(nil, string(lower(cmd.Args[0]))))
	}
	switch ci.Name {
	case "EXEC":
		c.tx = nil
		c.exec(tx)
		return true
	case "DISCARD":
		c.tx = nil
		c.reply(okReply)
		return true
	case "MULTI":
		c.reply([]byte("-ERR MULTI calls can not be nested\r\n"))
		return true
	case "WATCH":
		c.reply([]byte("-ERR WATCH inside MULTI is not allowed\r\n"))
		return true
	case "QUIT":
		c.reply(okReply)
		return false
	}
	keys, err := ci.AppendKeyIndexes(c.keyIdx[:0], cmd.Args)
	c.keyIdx = keys
	if err != nil {
		c.p.stats.InvalidRequest.Inc()
		return fail(redis.AppendWrongArity(nil, string(lower(cmd.Args[0]))))
	}
	keyless := ci.Name == "PING" || ci.Name == "ECHO"
	if ci.Flags&(redis.FlagAdmin|redis.FlagPubSub|redis.FlagTransaction) != 0 ||
		(len(keys) == 0 && !keyless) || (ci.Flags.Has(redis.FlagConnection) && !keyless) {
		c.p.stats.UnsupportedCommand.Inc()
		return fail(unsupportedReply(cmd.Args[0]))
	}
	var rt *route
	if len(keys) > 0 {
		t, ok := c.routeKeysQuiet(cmd.Args, keys)
		switch {
		case !ok:
			return fail(replyCrossSlot)
		case !tx.hasT:
			tx.t, tx.hasT = t, true
		case t.hp != tx.t.hp || t.rt != tx.t.rt:
			return fail(replyCrossSlot)
		}
		rt = t.rt
	}
	w := c.wire(cmd, rt, keys)
	if tx.n >= maxTxCommands || len(tx.buf)+len(w) > c.p.limit {
		c.p.stats.RqTooLarge.Inc()
		return fail([]byte("-ERR transaction too large for the proxy (per_connection_buffer_limit_bytes)\r\n"))
	}
	tx.buf = append(tx.buf, w...)
	tx.n++
	c.reply(replyQueued)
	return true
}

// routeKeysQuiet is routeKeys without replies: ok is false when the keys
// have no host or more than one.
func (c *client) routeKeysQuiet(args [][]byte, keys []int) (t target, ok bool) {
	for i, k := range keys {
		key := args[k]
		rt := c.p.router.match(key)
		if rt == nil {
			return t, false
		}
		if rt.removePrefix {
			key = key[len(rt.prefix):]
		}
		hp, h := c.p.pick(rt, key, false)
		if hp == nil {
			return t, false
		}
		if i == 0 {
			t = target{rt, hp, h}
		} else if rt != t.rt || hp != t.hp {
			return t, false
		}
	}
	return t, true
}

var (
	multiCmd = []byte("*1\r\n$5\r\nMULTI\r\n")
	execCmd  = []byte("*1\r\n$4\r\nEXEC\r\n")
)

// exec sends the queued transaction as one batch; the client sees only
// EXEC's reply (the +OK and +QUEUED were given at queueing time).
func (c *client) exec(tx *txState) {
	switch {
	case tx.aborted:
		c.reply(replyExecAbort)
		return
	case tx.n == 0:
		c.reply([]byte("*0\r\n"))
		return
	}
	t := tx.t
	if !tx.hasT {
		if c.p.router.catchAll == nil {
			c.reply(replyNoUpstream)
			return
		}
		t.rt = c.p.router.catchAll
		t.hp, t.host = c.p.pickAny(t.rt)
		if t.hp == nil {
			c.reply(replyNoUpstream)
			return
		}
	}
	s := c.enqueue()
	if s == nil {
		return
	}
	uc, err := t.hp.get(c.id)
	if err != nil {
		s.complete(replyUpstreamFailure, false)
		return
	}
	batch := make([]byte, 0, len(multiCmd)+len(tx.buf)+len(execCmd))
	batch = append(append(append(batch, multiCmd...), tx.buf...), execCmd...)
	slots := make([]*slot, 0, tx.n+2)
	for i := 0; i < tx.n+1; i++ {
		slots = append(slots, newSlot(nil))
	}
	s.host = t.host
	slots = append(slots, s)
	c.noteWrite(t.hp)
	if err := c.queueUp(uc, batch, slots...); err != nil {
		for _, d := range slots[:len(slots)-1] {
			d.release()
		}
		s.host = nil
		s.complete(replyUpstreamFailure, false)
	}
}
