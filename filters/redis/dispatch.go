package redis

import (
	"bytes"
	"errors"
	"time"

	"github.com/sluice-proxy/sluice/cluster"
	"github.com/sluice-proxy/sluice/codec/redis"
)

// Replies of the proxy's own, with Envoy's or redis-server's texts.
var (
	replyNoAuth    = []byte("-NOAUTH Authentication required.\r\n")
	replyCrossSlot = []byte("-CROSSSLOT Keys in request don't hash to the same slot\r\n")
	replyInvalid   = []byte("-ERR invalid request\r\n")
)

// dispatch handles one command; false ends the connection.
func (c *client) dispatch(cmd redis.Command) bool {
	p := c.p
	p.stats.RqTotal.Inc()
	ci := cmd.Info()
	if c.tx != nil {
		return c.txCommand(cmd, ci)
	}
	if ci == nil {
		c.unsupported(cmd.Args[0])
		return true
	}
	if !ci.ArityOK(len(cmd.Args)) {
		p.stats.InvalidRequest.Inc()
		c.reply(redis.AppendWrongArity(nil, string(lower(cmd.Args[0]))))
		return true
	}
	if !c.authed && ci.Name != "AUTH" && ci.Name != "HELLO" && ci.Name != "QUIT" {
		c.reply(replyNoAuth)
		return true
	}
	// Envoy counts command.<cmd>.* at the filter level always;
	// enable_command_stats adds per-cluster upstream_commands.* on top.
	cs := p.stats.Command(ci)
	if cs != nil {
		cs.Total.Inc()
	}
	switch ci.Name {
	case "PING", "ECHO", "QUIT", "AUTH", "SELECT", "HELLO":
		return c.local(cmd, ci, cs)
	case "MULTI":
		c.tx = &txState{}
		c.reply(okReply)
		return true
	case "EXEC", "DISCARD":
		c.reply([]byte("-ERR " + ci.Name + " without MULTI\r\n"))
		return true
	case "SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE":
		return c.subscribe(cmd, ci)
	case "UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE":
		c.reply(notSubscribed(ci.Name, cmd.Args))
		return true
	case "PUBLISH":
		c.publish(cmd, cs)
		return true
	case "MGET", "MSET", "DEL", "UNLINK", "EXISTS", "TOUCH":
		c.split(cmd, ci, cs)
		return true
	case "WAIT":
		return c.wait(cmd)
	case "WATCH", "UNWATCH":
		c.unsupported(cmd.Args[0])
		return true
	case "CLIENT":
		// Client libraries name themselves on connect (go-redis sends
		// CLIENT SETINFO); accept that, refuse the rest.
		if sub := string(lower(cmd.Args[1])); sub == "setname" || sub == "setinfo" {
			c.reply(okReply)
			return true
		}
	}
	keys, err := ci.AppendKeyIndexes(c.keyIdx[:0], cmd.Args)
	c.keyIdx = keys
	switch {
	case errors.Is(err, redis.ErrBadNumkeys):
		p.stats.InvalidRequest.Inc()
		c.reply([]byte("-ERR Number of keys can't be greater than number of args\r\n"))
		return true
	case err != nil:
		p.stats.InvalidRequest.Inc()
		c.reply(redis.AppendWrongArity(nil, string(lower(cmd.Args[0]))))
		return true
	}
	if ci.Flags&redis.FlagAdmin != 0 || len(keys) == 0 {
		if ci.Flags.Has(redis.FlagScripting) && ci.Keys == redis.KeysNumkeys {
			// EVAL with numkeys 0 names no shard (Envoy refuses it too).
			p.stats.InvalidRequest.Inc()
			c.reply(replyInvalid)
			return true
		}
		c.unsupported(cmd.Args[0])
		return true
	}
	if ci.Flags.Has(redis.FlagBlocking) && (ci.Keys != redis.KeysStreams || hasArg(cmd.Args, "BLOCK")) {
		return c.blocking(cmd, ci, keys)
	}
	c.forward(cmd, ci, keys, cs)
	return true
}

// unsupported answers a command the proxy cannot serve safely.
func (c *client) unsupported(name []byte) {
	c.p.stats.UnsupportedCommand.Inc()
	c.reply(unsupportedReply(name))
}

// unsupportedReply is Envoy's reply to a command it does not proxy; the
// name is the client's, so AppendError keeps CR and LF out of the line.
func unsupportedReply(name []byte) []byte {
	return redis.AppendError(nil, "ERR unsupported command '"+string(lower(name))+"'")
}

// target is where a command goes after routing.
type target struct {
	rt   *route
	hp   *hostPool
	host *cluster.Host
}

// routeKeys routes every key of a command and requires one target. ok is
// false after a reply was queued (no route, no host, cross-shard keys).
func (c *client) routeKeys(args [][]byte, keys []int, read bool) (t target, ok bool) {
	for i, k := range keys {
		key := args[k]
		rt := c.p.router.match(key)
		if rt == nil {
			c.reply(replyNoUpstream)
			return t, false
		}
		if rt.removePrefix {
			key = key[len(rt.prefix):]
		}
		hp, h := c.p.pick(rt, key, read)
		if hp == nil {
			c.reply(replyNoUpstream)
			return t, false
		}
		if i == 0 {
			t = target{rt, hp, h}
			continue
		}
		if rt != t.rt || hp != t.hp {
			c.reply(replyCrossSlot)
			return t, false
		}
	}
	return t, true
}

// wire returns the bytes to send for cmd on route rt: the command as
// received, or a rebuilt one when keys lose their prefix or it came inline.
func (c *client) wire(cmd redis.Command, rt *route, keys []int) []byte {
	if !cmd.Inline && (rt == nil || !rt.removePrefix) {
		return cmd.Raw
	}
	b := redis.AppendArrayHeader(c.scratch[:0], len(cmd.Args))
	for i, a := range cmd.Args {
		if rt != nil && rt.removePrefix && contains(keys, i) {
			a = a[len(rt.prefix):]
		}
		b = redis.AppendBulk(b, a)
	}
	c.scratch = b
	return b
}

// forward sends a single-shard command over the shared connection.
func (c *client) forward(cmd redis.Command, ci *redis.CommandInfo, keys []int, cs *CommandStats) {
	read := ci.Flags.Has(redis.FlagReadOnly)
	t, ok := c.routeKeys(cmd.Args, keys, read)
	if !ok {
		return
	}
	raw := c.wire(cmd, t.rt, keys)
	s := c.enqueue()
	if s == nil {
		return
	}
	if cs != nil {
		s.cs, s.start = cs, time.Now()
	}
	s.span = c.p.startSpan(cmd)
	c.sendSlot(t, raw, s, ci)
	if ci.Flags&(redis.FlagWrite|redis.FlagScripting) != 0 {
		c.noteWrite(t.hp)
	}
	c.mirrorAll(t.rt, cmd, ci, keys)
}

// sendSlot sends raw to t's host with s taking the reply; failures complete s.
func (c *client) sendSlot(t target, raw []byte, s *slot, ci *redis.CommandInfo) {
	if !c.ready(t.hp) { // on a loop, with no connection to send on yet
		raw = bytes.Clone(raw)
		c.later(func() { c.sendSlot(t, raw, s, ci) })
		return
	}
	if uc := c.upCommand(t.rt, ci); uc != nil {
		s.ucs, s.ustart = uc, time.Now()
	}
	if c.p.cfg.Settings.EnableRedirection {
		s.raw.set(raw)
		s.rt = t.rt
	}
	uc, err := t.hp.get(c.id)
	if err != nil {
		s.complete(replyUpstreamFailure, false)
		return
	}
	s.host = t.host
	if err := c.queueUp(uc, raw, s); err != nil {
		s.host = nil
		s.complete(replyUpstreamFailure, false)
	}
}

// queueUp queues a request on uc and remembers to flush uc before the
// reader blocks (next read, full queue, barrier).
func (c *client) queueUp(uc *upConn, raw []byte, slots ...*slot) error {
	// The last slot's reply is the last of these bytes to be answered: the
	// bytes count as held until then.
	last := slots[len(slots)-1]
	last.reqOwner, last.reqBytes = c, int64(len(raw))
	if err := uc.queue(raw, slots...); err != nil {
		last.reqOwner, last.reqBytes = nil, 0
		return err
	}
	c.reqAdd(int64(len(raw)))
	for _, d := range c.dirty {
		if d == uc {
			return nil
		}
	}
	c.dirty = append(c.dirty, uc)
	return nil
}

// flushUp wakes the writers of the upstream connections this client
// queued requests on. The writer goroutine, not this reader, writes: after
// letting the other runnable client readers queue theirs (upConn.gather),
// it sends many clients' requests in one write and one TCP segment, which
// measured cheaper than writing in each reader (see docs/benchmarks.md).
func (c *client) flushUp() {
	for i, uc := range c.dirty {
		uc.signal()
		c.dirty[i] = nil
	}
	c.dirty = c.dirty[:0]
}

// mirror sends a copy of cmd to the mirror route rt and ignores the reply.
func (c *client) mirror(rt *route, cmd redis.Command, keys []int) {
	key := cmd.Args[keys[0]]
	hp, h := c.p.pick(rt, key, false)
	if hp == nil {
		return
	}
	c.mirrorSend(hp, h, c.wire(cmd, nil, nil))
}

// mirrorSend queues raw, a mirrored command, on hp; its reply is dropped.
// On a loop that may not dial now the send waits for the goroutine.
func (c *client) mirrorSend(hp *hostPool, h *cluster.Host, raw []byte) {
	if !c.ready(hp) {
		raw = bytes.Clone(raw)
		c.later(func() { c.mirrorSend(hp, h, raw) })
		return
	}
	uc, err := hp.get(c.id)
	if err != nil {
		return
	}
	s := newSlot(nil)
	s.host = h
	if c.queueUp(uc, raw, s) != nil {
		s.host = nil
		s.release()
	}
}

// publish sends PUBLISH to the pub/sub host, where SUBSCRIBE clients are.
func (c *client) publish(cmd redis.Command, cs *CommandStats) {
	if c.p.pubsub == nil {
		c.reply(replyNoUpstream)
		return
	}
	hp, h := c.p.pickAny(c.p.pubsub)
	if hp == nil {
		c.reply(replyNoUpstream)
		return
	}
	s := c.enqueue()
	if s == nil {
		return
	}
	if cs != nil {
		s.cs, s.start = cs, time.Now()
	}
	c.sendSlot(target{c.p.pubsub, hp, h}, c.wire(cmd, nil, nil), s, redis.Lookup(cmd.Args[0]))
}

// notSubscribed is redis-server's RESP2 reply to an unsubscribe from a
// client with no subscriptions: one [kind, channel|nil, 0] per channel.
func notSubscribed(name string, args [][]byte) []byte {
	kind := []byte(string(lower([]byte(name))))
	var b []byte
	if len(args) == 1 {
		b = redis.AppendArrayHeader(b, 3)
		b = redis.AppendBulk(b, kind)
		b = redis.AppendNullBulk(b)
		return redis.AppendInt(b, 0)
	}
	for _, ch := range args[1:] {
		b = redis.AppendArrayHeader(b, 3)
		b = redis.AppendBulk(b, kind)
		b = redis.AppendBulk(b, ch)
		b = redis.AppendInt(b, 0)
	}
	return b
}

func hasArg(args [][]byte, upper string) bool {
	for _, a := range args[1:] {
		if bytes.EqualFold(a, []byte(upper)) {
			return true
		}
	}
	return false
}

func contains(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
