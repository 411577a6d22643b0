package postgres

import (
	"encoding/binary"
	"fmt"

	pg "github.com/sluice-proxy/sluice/codec/postgres"
	"github.com/sluice-proxy/sluice/filters"
)

// holdExtra is what a held Parse may carry beyond its SQL (name, types).
const holdExtra = 64 << 10

// syncMsg replaces a denied statement: the server answers it with the
// ReadyForQuery before which the gate's error is written.
var syncMsg = []byte{'S', 0, 0, 0, 4}

// tracker follows the boundaries of typed messages (type byte, 4-byte
// length) in one direction on the gated path.
type tracker struct {
	hdr   [5]byte
	nhdr  int
	inMsg bool
	typ   byte
	size  int64 // whole message: 1 + length
	left  int64 // body bytes still to come
}

// next consumes the bytes of p that belong to the current message and
// reports how many, and whether they complete it.
func (t *tracker) next(p []byte) (n int, done bool) {
	if !t.inMsg {
		k := copy(t.hdr[t.nhdr:], p)
		t.nhdr += k
		n = k
		if t.nhdr < len(t.hdr) {
			return n, false
		}
		t.nhdr, t.inMsg, t.typ = 0, true, t.hdr[0]
		length := int64(binary.BigEndian.Uint32(t.hdr[1:]))
		t.left, t.size = max(length-4, 0), 1+max(length, 4)
	}
	k := int(min(t.left, int64(len(p)-n)))
	t.left -= int64(k)
	n += k
	if t.left > 0 {
		return n, false
	}
	t.inMsg = false
	return n, true
}

// partial returns how many bytes of an unfinished message were consumed.
func (t *tracker) partial() int64 {
	if t.inMsg {
		return t.size - t.left
	}
	return int64(t.nhdr)
}

// readGated returns client bytes once each Query and Parse was decided.
func (c *conn) readGated(p []byte) (int, error) {
	return c.hold.Read(c.rw, p, c.processGated)
}

// processGated decodes a chunk from the client and returns for the server
// what the gates let through.
func (c *conn) processGated(chunk []byte) ([]byte, error) {
	c.out = c.out[:0]
	limit := int64(c.f.cfg.MaxSQLPrefix + holdExtra)
	for len(chunk) > 0 {
		n, done := c.ft.next(chunk)
		seg := chunk[:n]
		chunk = chunk[n:]
		if c.stream {
			if err := c.feedFront(seg); err != nil {
				return nil, err
			}
			if !c.discard {
				c.out = append(c.out, seg...)
			}
		} else {
			c.held = append(c.held, seg...)
			if c.ft.inMsg && !done && ((c.ft.typ != 'Q' && c.ft.typ != 'P') || c.ft.size > limit || c.discard) {
				// Not a statement to hold (or too long to): pass it on.
				c.stream = true
				if err := c.feedFront(c.held); err != nil {
					return nil, err
				}
				if !c.discard {
					c.out = append(c.out, c.held...)
				}
				c.held = c.held[:0]
			}
		}
		if done {
			if err := c.finish(); err != nil {
				return nil, err
			}
		}
	}
	return c.out, nil
}

// finish acts on the client message that just ended.
func (c *conn) finish() error {
	typ, streamed := c.ft.typ, c.stream
	c.stream = false
	if !streamed {
		c.verdict = filters.SQLVerdict{}
		if err := c.feedFront(c.held); err != nil {
			return err
		}
	}
	msg := c.held
	c.held = c.held[:0]
	v := c.verdict
	c.verdict = filters.SQLVerdict{}
	if c.discard {
		if typ == 'S' { // the end of the failed batch: the server answers it
			c.discard = false
			c.out = append(c.out, syncMsg...)
			return c.queueDenial(c.denyMsg)
		}
		return nil
	}
	if v.Close || (streamed && v.Deny) {
		c.f.stats.StatementsDenied.Inc()
		c.s.Log.Info("postgres_proxy: statement refused, closing", "policy", v.Policy)
		return fmt.Errorf("%w (policy %q)", errDenyClose, v.Policy)
	}
	if v.Deny {
		c.f.stats.StatementsDenied.Inc()
		c.recordPolicy(v.Policy)
		emsg := pg.AppendError(nil, "ERROR", "42501", fmt.Sprintf("permission denied by sluice policy %q", v.Policy))
		if typ == 'Q' {
			c.out = append(c.out, syncMsg...)
			return c.queueDenial(emsg)
		}
		// A denied Parse fails its batch: drop until Sync, as the server does.
		c.discard, c.denyMsg = true, emsg
		return nil
	}
	if !streamed {
		c.out = append(c.out, msg...)
	}
	if typ == 'Q' || typ == 'S' || typ == 'F' {
		c.syncs++
	}
	return nil
}

// queueDenial counts the Sync just forwarded and remembers to write emsg
// before the ReadyForQuery that answers it.
func (c *conn) queueDenial(emsg []byte) error {
	c.syncs++
	c.injMu.Lock()
	defer c.injMu.Unlock()
	if len(c.inj) >= maxInjections {
		return fmt.Errorf("%w: %d denied statements awaiting the server", errDenyClose, len(c.inj))
	}
	c.inj = append(c.inj, injection{sync: c.syncs, msg: emsg})
	return nil
}

// recordPolicy puts the denying policy in the access log record.
func (c *conn) recordPolicy(policy string) {
	c.s.UpdateAccess(func(a *filters.AccessRecord) {
		if a.Fields == nil {
			a.Fields = make(map[string]any)
		}
		a.Fields["rbac_policy"] = policy
	})
}

// writeGated writes server bytes to the client, putting each denied
// statement's ErrorResponse before the ReadyForQuery that answers its Sync.
// While denials wait, a trailing partial message shorter than a
// ReadyForQuery is kept back (at most 5 bytes) until it is complete.
func (c *conn) writeGated(p []byte) (int, error) {
	data := p
	if len(c.bheld) > 0 {
		data = append(c.bheld, p...)
	}
	off := len(data) - len(p)
	w := 0
	for i := 0; i < len(p); {
		n, done := c.bt.next(p[i:])
		i += n
		if !done || c.bt.typ != 'Z' {
			continue
		}
		if !c.sawStartup {
			c.sawStartup = true
			continue
		}
		c.rfqs++
		if emsg := c.takeInjection(c.rfqs); emsg != nil {
			start := off + i - int(c.bt.size)
			if start < w {
				start = w // cannot happen: a held tail is never written early
			}
			if _, err := c.rw.Write(data[w:start]); err != nil {
				return 0, err
			}
			if _, err := c.rw.Write(emsg); err != nil {
				return 0, err
			}
			w = start
		}
	}
	end := len(data)
	c.injMu.Lock()
	waiting := len(c.inj) > 0
	c.injMu.Unlock()
	if tail := c.bt.partial(); waiting && tail > 0 && tail < 6 {
		end -= int(tail)
	}
	if _, err := c.rw.Write(data[w:end]); err != nil {
		return 0, err
	}
	c.bheld = append(c.bheld[:0], data[end:]...)
	return len(p), nil
}

// takeInjection returns the ErrorResponse due before ReadyForQuery number
// rfq, or nil.
func (c *conn) takeInjection(rfq uint64) []byte {
	c.injMu.Lock()
	defer c.injMu.Unlock()
	if len(c.inj) == 0 || c.inj[0].sync != rfq {
		return nil
	}
	msg := c.inj[0].msg
	c.inj = c.inj[1:]
	return msg
}
