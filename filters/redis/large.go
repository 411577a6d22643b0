package redis

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/sluice-proxy/sluice/codec/redis"
)

// Commands larger than the listener's per_connection_buffer_limit_bytes
// are not held: once the reader has the command's keys (leading
// arguments) and has routed them, the rest of the command goes to the
// upstream as it arrives, through the reader's buffer.
//
// A streamed command goes on the shared multiplexed connection, in its
// place among the other clients' commands: the client takes the
// connection's writer role, writes what was queued before it, then its
// command as the bytes come; other clients' commands queue meanwhile and
// follow. So the one TCP stream keeps every client's order, and a client
// that pipelines (writes a large value before it reads earlier replies, as
// go-redis pipelines do) cannot deadlock against its own replies, which a
// separate connection with an ordering barrier would. The cost: while a
// client streams, the shared connection carries nothing else, for at most
// request_timeout (a client too slow is closed). A client that ends inside
// its value leaves a partial command on the wire: that upstream connection
// is closed, failing its requests in flight, as after an upstream error.
//
// A large command that cannot be streamed (its keys are not all before
// the large argument, or it is split, queued in MULTI, a pub/sub or
// blocking command, or unknown) is refused: an error reply, the
// connection closed, downstream_rq_too_large, a log line.

// maxStreamArgs bounds the arguments of a streamed command: finding its
// keys takes a slice of that many entries.
const maxStreamArgs = 4096

// errStop ends the client's read loop without a further reply.
var errStop = errors.New("redis: connection done")

// replyTooLarge is the refusal of a command that cannot be streamed.
func replyTooLarge(limit int) []byte {
	return redis.AppendErr(nil, "command exceeds per_connection_buffer_limit_bytes ("+itoa(limit)+") and cannot be streamed")
}

// fill reads more from the client, arming the request timeout first.
func (c *client) fill() error {
	c.arm()
	if c.raw != nil && c.rd.Buffered() == 0 && !c.rd.InBody() {
		c.rxSet(0) // the reader gives its buffer back while it waits (SetWaitReadable)
	}
	err := c.rd.Fill()
	c.rxUpdate()
	return err
}

// arm keeps the client's read deadline: set request_timeout after the
// first bytes of a command were buffered (and the command before it was
// dispatched), cleared while nothing partial is buffered.
func (c *client) arm() {
	d := c.p.cfg.Settings.RequestTimeout.D()
	if d <= 0 {
		return
	}
	if c.rd.Buffered() > 0 || c.rd.InBody() {
		if !c.armed || c.armedSeq != c.seq {
			c.conn.SetReadDeadline(time.Now().Add(d))
			c.armed, c.armedSeq = true, c.seq
		}
	} else if c.armed {
		c.conn.SetReadDeadline(time.Time{})
		c.armed = false
	}
}

// rearm restarts an armed request timeout, after sluice itself made the
// client wait (for an upstream connection's writer role).
func (c *client) rearm() {
	if d := c.p.cfg.Settings.RequestTimeout.D(); d > 0 && c.armed {
		c.conn.SetReadDeadline(time.Now().Add(d))
	}
}

// readFailed accounts for the error that ended reading from the client.
func (c *client) readFailed(err error) {
	var pe *redis.ProtocolError
	switch {
	case errors.As(err, &pe):
		c.p.stats.CxProtocolError.Inc()
		c.reply(redis.AppendErr(nil, pe.Error()))
		c.s.Log.Info("redis_proxy: protocol error", "err", err)
	default:
		c.timedOut(err)
	}
}

// timedOut counts and logs a read that request_timeout ended.
func (c *client) timedOut(err error) {
	if errors.Is(err, os.ErrDeadlineExceeded) && c.armed {
		c.p.stats.RqTimeout.Inc()
		c.s.Log.Info("redis_proxy: partial command held past request_timeout, closing",
			"request_timeout", c.p.cfg.Settings.RequestTimeout.D().String(), "buffered", c.rd.Buffered())
	}
}

// refuseLarge answers a large command that cannot be streamed; the caller
// closes the connection.
func (c *client) refuseLarge(name, why string) {
	c.p.stats.RqTooLarge.Inc()
	c.s.Log.Info("redis_proxy: command larger than per_connection_buffer_limit_bytes cannot be streamed, closing",
		"command", name, "reason", why, "limit", c.p.limit)
	c.reply(replyTooLarge(c.p.limit))
}

// streamKeys returns the key indexes of a large command if it can be
// streamed, or why not.
func (c *client) streamKeys(h redis.Head, ci *redis.CommandInfo) ([]int, string) {
	switch {
	case len(h.Args) == 0:
		return nil, "command name"
	case ci == nil:
		return nil, "unknown command"
	case c.tx != nil:
		return nil, "inside MULTI"
	case h.NArgs > maxStreamArgs:
		return nil, "too many arguments"
	case !c.authed:
		return nil, "not authenticated"
	case ci.Flags&(redis.FlagAdmin|redis.FlagBlocking|redis.FlagPubSub|redis.FlagTransaction|redis.FlagConnection) != 0:
		return nil, "command kind"
	}
	switch ci.Name {
	case "MGET", "MSET", "DEL", "UNLINK", "EXISTS", "TOUCH", "WAIT", "CLIENT":
		return nil, "split command"
	}
	args := make([][]byte, h.NArgs) // unreceived arguments stay nil
	copy(args, h.Args)
	keys, err := ci.AppendKeyIndexes(c.keyIdx[:0], args)
	c.keyIdx = keys
	if err != nil || len(keys) == 0 {
		return nil, "keys"
	}
	for _, k := range keys {
		if k >= len(h.Args) {
			return nil, "key after the large argument"
		}
	}
	return keys, ""
}

// streamLarge forwards the large command whose head is h. A nil error
// continues reading; errStop or a read error ends the connection.
func (c *client) streamLarge(h redis.Head) error {
	p := c.p
	p.stats.RqTotal.Inc()
	var ci *redis.CommandInfo
	if len(h.Args) > 0 {
		ci = redis.Lookup(h.Args[0])
	}
	keys, why := c.streamKeys(h, ci)
	if why != "" {
		name := ""
		if len(h.Args) > 0 {
			name = string(lower(h.Args[0]))
		}
		c.refuseLarge(name, why)
		return errStop
	}
	// Envoy counts command.<cmd>.* at the filter level always;
	// enable_command_stats adds per-cluster upstream_commands.* on top.
	cs := p.stats.Command(ci)
	if cs != nil {
		cs.Total.Inc()
	}
	t, ok := c.routeKeys(h.Args, keys, ci.Flags.Has(redis.FlagReadOnly))
	if !ok { // answered; the value goes nowhere
		return c.skipBody()
	}
	head := c.wireHead(h, t.rt, keys)
	if ci.Flags&(redis.FlagWrite|redis.FlagScripting) != 0 {
		c.noteWrite(t.hp)
	}
	s := c.enqueue()
	if s == nil {
		return errStop
	}
	if cs != nil {
		s.cs, s.start = cs, time.Now()
	}
	if uc := c.upCommand(t.rt, ci); uc != nil {
		s.ucs, s.ustart = uc, time.Now()
	}
	c.flushUp() // commands queued for other hosts go now, not after the value
	uc, err := t.hp.get(c.id)
	if err == nil {
		s.host = t.host
		if err = uc.beginStream(s, head); errors.Is(err, errConnDead) {
			s.host = nil
		} else if err != nil {
			return c.skipBody() // s was queued: it failed with the connection
		}
	}
	if err != nil {
		s.complete(replyUpstreamFailure, false)
		return c.skipBody()
	}
	c.rearm() // the wait for the writer role was sluice's, not the client's
	rdErr := c.sendBody(uc)
	uc.endStream()
	if rdErr != nil {
		uc.fail(fmt.Errorf("redis: client left inside a streamed command: %w", rdErr))
		return rdErr
	}
	c.seq++
	return nil
}

// wireHead is the head of a streamed command as the upstream gets it: as
// received, or rebuilt without the route's prefix on its keys.
func (c *client) wireHead(h redis.Head, rt *route, keys []int) []byte {
	if !rt.removePrefix {
		return h.Raw
	}
	b := redis.AppendArrayHeader(c.scratch[:0], h.NArgs)
	for i, a := range h.Args {
		if contains(keys, i) {
			a = a[len(rt.prefix):]
		}
		b = redis.AppendBulk(b, a)
	}
	b = append(b, '$')
	b = strconv.AppendInt(b, h.BulkLen, 10)
	b = append(b, '\r', '\n')
	c.scratch = b
	return b
}

// sendBody passes the rest of the command to uc, chunk by chunk. After
// an upstream error the rest is still read, so the client stays in step;
// the command's slot fails with the connection.
func (c *client) sendBody(uc *upConn) error {
	c.rd.StartBody()
	var upErr error
	for {
		chunk, end, err := c.rd.BodyChunk()
		if err != nil {
			return err
		}
		if upErr == nil {
			upErr = uc.streamWrite(chunk)
		}
		if end {
			return nil
		}
	}
}

// skipBody reads and drops the rest of a streamed command.
func (c *client) skipBody() error {
	c.rd.StartBody()
	for {
		_, end, err := c.rd.BodyChunk()
		if err != nil {
			return err
		}
		if end {
			c.seq++
			return nil
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
