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
	return c.hold.Read(c.rw, p, c.processGated)
}

// processGated decodes a chunk from the client and returns for the server
// what the gates let through.
func (c *conn) processGated(chunk []byte) ([]byte, error) {
	c.out = c.out[:0]
	limit := int64(min(c.f.cfg.MaxSQLPrefix+holdExtra, c.f.limit))
	for len(chunk) > 0 {
		n, done := c.ft.next(chunk)
		seg := chunk[:n]
		chunk = chunk[n:]
		if c.stream {
			if err := c.feedFront(seg); err != nil {
				return nil, err
			}
			c.out = append(c.out, seg...)
		} else {
			c.held = append(c.held, seg...)
			if c.ft.inMsg && !done && ((c.ft.typ != 'Q' && c.ft.typ != 'P') || c.ft.size > limit) {
				// Not a statement to hold (or too long to): pass it on.
				c.stream = true
				if err := c.feedFront(c.held); err != nil {
					return nil, err
				}
				c.out = append(c.out, c.held...)
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
	if v.Close || (streamed && v.Deny) {
		c.f.stats.StatementsDenied.Inc()
		c.s.Log.Info("postgres_proxy: statement refused, closing", "policy", v.Policy)
		return fmt.Errorf("%w (policy %q)", errDenyClose, v.Policy)
	}
	if v.Deny {
		c.f.stats.StatementsDenied.Inc()
		c.recordPolicy(v.Policy)
		if typ == 'Q' {
			c.out = appendDenyQuery(c.out, v.Policy)
		} else {
			c.out = appendDenyExtended(c.out, v.Policy)
			c.parses++
			c.binds++
			if err := c.addStrip(); err != nil {
				return err
			}
		}
	} else if !streamed {
		c.out = append(c.out, msg...)
	}
	switch typ {
	case 'P':
		if !v.Deny {
			c.parses++
		}
	case 'B':
		c.binds++
	case 'Q', 'S', 'F':
		c.syncs++
		c.parses, c.binds = 0, 0
	}
	return nil
}

// addStrip remembers to drop the answers to the denial batch just queued.
func (c *conn) addStrip() error {
	c.stripMu.Lock()
	defer c.stripMu.Unlock()
	if len(c.strips) >= maxStrips {
		return fmt.Errorf("%w: %d denied statements awaiting the server", errDenyClose, len(c.strips))
	}
	c.strips = append(c.strips, strip{sync: c.syncs + 1, parse: c.parses, bind: c.binds})
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
	if len(c.bheld) > 0 {
		data = append(c.bheld, p...)
	}
	off := len(data) - len(p)
	w := 0
	for i := 0; i < len(p); {
		n, done := c.bt.next(p[i:])
		i += n
		if !done {
			continue
		}
		if !c.dropAnswer(c.bt.typ) {
			continue
		}
		start := off + i - int(c.bt.size)
		if _, err := c.rw.Write(data[w:start]); err != nil {
			return 0, err
		}
		w = off + i
	}
	end := len(data)
	c.stripMu.Lock()
	waiting := len(c.strips) > 0
	c.stripMu.Unlock()
	if tail := c.bt.partial(); waiting && tail > 0 && tail < 5 {
		end -= int(tail)
	}
	if _, err := c.rw.Write(data[w:end]); err != nil {
		return 0, err
	}
	c.bheld = append(c.bheld[:0], data[end:]...)
	return len(p), nil
}

// dropAnswer follows the server's batches and reports whether the message
// of type typ that just ended answers a denial's replacement.
func (c *conn) dropAnswer(typ byte) bool {
	switch typ {
	case 'Z':
		if !c.sawStartup {
			c.sawStartup = true
			return false
		}
		c.rfqs++
		c.parsed, c.bound = 0, 0
		c.stripMu.Lock()
		for len(c.strips) > 0 && c.strips[0].sync <= c.rfqs {
			c.strips = c.strips[1:]
		}
		c.stripMu.Unlock()
		return false
	case '1':
		c.parsed++
	case '2':
		c.bound++
	default:
		return false
	}
	c.stripMu.Lock()
	defer c.stripMu.Unlock()
	for _, st := range c.strips {
		if st.sync != c.rfqs+1 {
			break
		}
		if (typ == '1' && st.parse == c.parsed) || (typ == '2' && st.bind == c.bound) {
			return true
		}
	}
	return false
}
