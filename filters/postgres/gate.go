package postgres

import (
	"encoding/binary"
	"fmt"

	"github.com/sluice-proxy/sluice/filters"
)

// holdExtra is what a held Parse may carry beyond its SQL (name, types).
const holdExtra = 64 << 10

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
	return c.g.hold.Read(c.rw, p, c.processGated)
}

// processGated decodes a chunk from the client and returns for the server
// what the gates let through.
func (c *conn) processGated(chunk []byte) ([]byte, error) {
	c.g.out = c.g.out[:0]
	limit := int64(min(c.f.cfg.MaxSQLPrefix+holdExtra, c.f.limit))
	for len(chunk) > 0 {
		n, done := c.g.ft.next(chunk)
		seg := chunk[:n]
		chunk = chunk[n:]
		if c.g.stream {
			if err := c.feedFront(seg); err != nil {
				return nil, err
			}
			c.g.out = append(c.g.out, seg...)
		} else {
			c.g.held = append(c.g.held, seg...)
			if c.g.ft.inMsg && !done && ((c.g.ft.typ != 'Q' && c.g.ft.typ != 'P') || c.g.ft.size > limit) {
				// Not a statement to hold (or too long to): pass it on.
				c.g.stream = true
				if err := c.feedFront(c.g.held); err != nil {
					return nil, err
				}
				c.g.out = append(c.g.out, c.g.held...)
				c.g.held = c.g.held[:0]
			}
		}
		if done {
			if err := c.finish(); err != nil {
				return nil, err
			}
		}
	}
	return c.g.out, nil
}

// finish acts on the client message that just ended.
func (c *conn) finish() error {
	typ, streamed := c.g.ft.typ, c.g.stream
	c.g.stream = false
	if !streamed {
		c.g.verdict = filters.SQLVerdict{}
		if err := c.feedFront(c.g.held); err != nil {
			return err
		}
	}
	msg := c.g.held
	c.g.held = c.g.held[:0]
	v := c.g.verdict
	c.g.verdict = filters.SQLVerdict{}
	if v.Close || (streamed && v.Deny) {
		c.f.stats.StatementsDenied.Inc()
		c.s.Log.Info("postgres_proxy: statement refused, closing", "policy", v.Policy)
		return fmt.Errorf("%w (policy %q)", errDenyClose, v.Policy)
	}
	if v.Deny {
		c.f.stats.StatementsDenied.Inc()
		c.recordPolicy(v.Policy)
		if typ == 'Q' {
			c.g.out = appendDenyQuery(c.g.out, v.Policy)
		} else {
			c.g.out = appendDenyExtended(c.g.out, v.Policy)
			c.g.parses++
			c.g.binds++
			if err := c.addStrip(); err != nil {
				return err
			}
		}
	} else if !streamed {
		c.g.out = append(c.g.out, msg...)
	}
	switch typ {
	case 'P':
		if !v.Deny {
			c.g.parses++
		}
	case 'B':
		c.g.binds++
	case 'Q', 'S', 'F':
		c.g.syncs++
		c.g.parses, c.g.binds = 0, 0
	}
	return nil
}

// addStrip remembers to drop the answers to the denial batch just queued.
func (c *conn) addStrip() error {
	c.g.stripMu.Lock()
	defer c.g.stripMu.Unlock()
	if len(c.g.strips) >= maxStrips {
		return fmt.Errorf("%w: %d denied statements awaiting the server", errDenyClose, len(c.g.strips))
	}
	c.g.strips = append(c.g.strips, strip{sync: c.g.syncs + 1, parse: c.g.parses, bind: c.g.binds})
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

// writeGated writes server bytes to the client, leaving out the
// ParseComplete and BindComplete that answer a denial's replacement. While
// such answers are due, a trailing partial message shorter than they are
// (at most 4 bytes) is kept back until it is complete.
func (c *conn) writeGated(p []byte) (int, error) {
	data := p
	if len(c.g.bheld) > 0 {
		data = append(c.g.bheld, p...)
	}
	off := len(data) - len(p)
	w := 0
	for i := 0; i < len(p); {
		n, done := c.g.bt.next(p[i:])
		i += n
		if !done {
			continue
		}
		if !c.dropAnswer(c.g.bt.typ) {
			continue
		}
		start := off + i - int(c.g.bt.size)
		if _, err := c.rw.Write(data[w:start]); err != nil {
			return 0, err
		}
		w = off + i
	}
	end := len(data)
	c.g.stripMu.Lock()
	waiting := len(c.g.strips) > 0
	c.g.stripMu.Unlock()
	if tail := c.g.bt.partial(); waiting && tail > 0 && tail < 5 {
		end -= int(tail)
	}
	if _, err := c.rw.Write(data[w:end]); err != nil {
		return 0, err
	}
	c.g.bheld = append(c.g.bheld[:0], data[end:]...)
	return len(p), nil
}

// dropAnswer follows the server's batches and reports whether the message
// of type typ that just ended answers a denial's replacement.
func (c *conn) dropAnswer(typ byte) bool {
	switch typ {
	case 'Z':
		if !c.g.sawStartup {
			c.g.sawStartup = true
			return false
		}
		c.g.rfqs++
		c.g.parsed, c.g.bound = 0, 0
		c.g.stripMu.Lock()
		for len(c.g.strips) > 0 && c.g.strips[0].sync <= c.g.rfqs {
			c.g.strips = c.g.strips[1:]
		}
		c.g.stripMu.Unlock()
		return false
	case '1':
		c.g.parsed++
	case '2':
		c.g.bound++
	default:
		return false
	}
	c.g.stripMu.Lock()
	defer c.g.stripMu.Unlock()
	for _, st := range c.g.strips {
		if st.sync != c.g.rfqs+1 {
			break
		}
		if (typ == '1' && st.parse == c.g.parsed) || (typ == '2' && st.bind == c.g.bound) {
			return true
		}
	}
	return false
}
