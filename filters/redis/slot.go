package redis

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluice-proxy/sluice/cluster"
	"github.com/sluice-proxy/sluice/tracing"
)

// slot is one pending reply. A client's writer sends slots' replies in the
// order the client sent the commands; upstream readers, local handlers and
// merges complete them in any order.
//
// Ownership: until done is set, the completer (an upstream connection's
// FIFO, or a merge parent) owns reply; afterwards the client writer does,
// and only the writer recycles a slot, after copying its reply out.
type slot struct {
	owner  *client // notified on completion; nil for discarded replies
	parent *split  // set for a fragment of a split command
	index  int     // fragment number within parent
	reply  buffer  // the reply's copy (keepSlot)
	done   atomic.Bool

	// Request facts used on completion.
	host  *cluster.Host // for rq_* and outlier reporting; nil for cluster nodes
	cs    *CommandStats // nil for a command outside the command table
	start time.Time     // set when cs != nil
	// ucs are upstream_commands.<cmd>.* (enable_command_stats), timed
	// from ustart, when the request was handed to its upstream.
	ucs    *upstreamCommand
	ustart time.Time
	// span is the command's tracing span, if traced (tracing.go).
	span *tracing.StatementSpan
	// raw is the request, kept only when redirection may resend it.
	raw       buffer
	rt        *route
	redirects uint8
	// reqOwner holds reqBytes of request bytes queued upstream until this
	// slot's reply comes (client.reqHeld).
	reqOwner *client
	reqBytes int64
}

var slotPool = sync.Pool{New: func() any { return new(slot) }}

// newSlot returns a cleared slot owned by c.
func newSlot(c *client) *slot {
	s := slotPool.Get().(*slot)
	s.reply.keep, s.raw.keep = keepSlot, keepSlot
	s.owner = c
	return s
}

// release returns a slot whose reply has been consumed.
func (s *slot) release() {
	reply, raw := s.reply, s.raw
	reply.reset()
	raw.reset()
	*s = slot{reply: reply, raw: raw}
	slotPool.Put(s)
}

// complete records the reply (copied) and hands the slot to its consumer.
// ok=false means the reply was made locally because the upstream failed.
func (s *slot) complete(reply []byte, upstreamOK bool) {
	if c := s.settle(reply, upstreamOK); c != nil {
		c.onDone()
	}
}

// settle is complete without telling the client: it returns the client
// whose onDone the caller must call (an upstream reader calls it once per
// client for all the replies of one read, so they leave in one write).
func (s *slot) settle(reply []byte, upstreamOK bool) *client {
	s.answered()
	if s.host != nil {
		s.host.EndRequest(upstreamOK)
	}
	if s.ucs != nil {
		s.ucs.finish(s.ustart, !upstreamOK || len(reply) > 0 && reply[0] == '-')
	}
	if s.span != nil {
		s.span.End(!upstreamOK || len(reply) > 0 && reply[0] == '-')
		s.span = nil
	}
	if s.cs != nil {
		s.cs.Latency.Record(float64(time.Since(s.start).Microseconds()) / 1000)
		if len(reply) > 0 && reply[0] == '-' {
			s.cs.Error.Inc()
		} else {
			s.cs.Success.Inc()
		}
	}
	if p := s.parent; p != nil {
		s.reply.set(reply)
		p.fragmentDone()
		return nil
	}
	c := s.owner
	if c == nil { // mirrored or internal: nobody reads it
		s.release()
		return nil
	}
	s.reply.set(reply)
	c.txAdd(int64(len(reply)))
	s.done.Store(true)
	return c
}

// answered releases the request bytes the slot held for their client.
func (s *slot) answered() {
	if c := s.reqOwner; c != nil {
		s.reqOwner = nil
		c.reqAdd(-s.reqBytes)
	}
}

// completeLocal finishes a slot with a reply made by the proxy.
func (s *slot) completeLocal(reply []byte) {
	if s.span != nil { // tracing.go
		s.span.End(len(reply) > 0 && reply[0] == '-')
		s.span = nil
	}
	c := s.owner // read before done: the writer may recycle s right after
	s.reply.set(reply)
	if c != nil {
		c.txAdd(int64(len(reply)))
	}
	s.done.Store(true)
	if c != nil {
		c.onDone()
	}
}
