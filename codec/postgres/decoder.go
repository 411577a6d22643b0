package postgres

import (
	"encoding/binary"
	"sync/atomic"
)

// state is where a Decoder is in its stream.
type state uint8

const (
	stStartupLen  state = iota // frontend: reading a startup packet's length
	stStartupBody              // frontend: buffering the rest of a startup packet
	stHeader                   // reading a type byte and length
	stBody                     // reading a typed message's body
	stEncrypted                // TLS or GSS from here on: bytes are not inspected
	stDone                     // after CancelRequest: nothing more may come
)

// bodyMode is how a typed message's body is consumed.
type bodyMode uint8

const (
	modeWhole  bodyMode = iota // buffer all of it, then decode
	modePrefix                 // keep the first d.keep bytes (a large Query's SQL), skip the rest
	modeParse                  // a large Parse: keep name and SQL prefixes, skip the rest
	modeSkip                   // keep nothing
)

// session is what the two decoders of a Pair tell each other. The backend
// reads what the frontend wrote and vice versa; a proxy may feed the two
// directions from two goroutines, hence the atomics. The protocol orders the
// events (a client waits for the answer to its SSLRequest, and for the
// authentication request before answering it), so the value is set before
// the other side needs it.
type session struct {
	pendingEnc atomic.Uint32 // Kind of an encryption request not yet answered, or 0
	encrypted  atomic.Bool   // the backend accepted an encryption request
	auth       atomic.Uint32 // Kind of the last Authentication* request
}

// Decoder decodes one direction of a Postgres session incrementally. It is
// not safe for concurrent use; the two Decoders of a Pair may be used from
// two goroutines.
type Decoder struct {
	cfg   Config
	bound int // cfg.Bound()
	dir   Direction
	sess  *session

	st     state
	hdr    [5]byte
	nhdr   int
	off    int64 // bytes consumed so far
	msgOff int64 // offset of the current message's first byte
	kind   Kind
	length int64 // current message's length field
	remain int64 // body bytes still to come
	mode   bodyMode
	keep   int  // modePrefix: bytes of body to keep
	cut    bool // modePrefix/modeParse: something was not kept
	pscan  uint8
	nname  int // modeParse: bytes of buf holding the name
	buf    []byte
	err    error
	sc     *scratch // borrowed for the current Feed's messages, else nil
}

// NewDecoder returns a decoder for one direction on its own. A lone frontend
// decoder reports every 'p' message as KindAuthResponse, and a lone backend
// decoder does not expect the one-byte answer to an SSLRequest; use NewPair
// to decode both directions of a session.
func NewDecoder(dir Direction, cfg Config) *Decoder {
	d := &Decoder{cfg: cfg.withDefaults(), bound: cfg.Bound(), dir: dir, sess: new(session), st: stHeader}
	if dir == Frontend {
		d.st = stStartupLen
	}
	return d
}

// Pair is the two decoders of one session, sharing what each direction must
// know of the other: that an encryption request awaits its one-byte answer,
// that the session is now encrypted, and which authentication request a 'p'
// message answers.
type Pair struct {
	Frontend *Decoder // client to server
	Backend  *Decoder // server to client
}

// NewPair returns the decoders for a session that starts at its first byte.
func NewPair(cfg Config) *Pair {
	f, b := NewDecoder(Frontend, cfg), NewDecoder(Backend, cfg)
	b.sess = f.sess
	return &Pair{Frontend: f, Backend: b}
}

// Encrypted reports that the stream is encrypted (TLS or GSSAPI) and no
// longer inspected.
func (d *Decoder) Encrypted() bool { return d.st == stEncrypted }

// Offset returns how many bytes the decoder has consumed.
func (d *Decoder) Offset() int64 { return d.off }

// Retained returns the capacity of the buffer the decoder holds; it never
// exceeds the Config's Bound.
func (d *Decoder) Retained() int { return cap(d.buf) }

// Feed consumes p, a chunk of the stream of any size, and calls emit once per
// message completed by it, in stream order. A partial message at the end of p
// is kept (its header, and what Config says to keep of its body) and finished
// by later calls. Feed does not retain p. A *FrameError is fatal and sticky;
// an error from emit stops Feed and is returned as is, leaving the decoder
// after the emitted message.
func (d *Decoder) Feed(p []byte, emit func(*Message) error) error {
	if d.err != nil {
		return d.err
	}
	err := d.feed(p, emit)
	if d.sc != nil { // borrowed by finish for this chunk's messages
		d.sc.put()
		d.sc = nil
	}
	return err
}

// feed is Feed's loop over the states.
func (d *Decoder) feed(p []byte, emit func(*Message) error) error {
	for len(p) > 0 {
		var n int
		var err error
		switch d.st {
		case stStartupLen:
			n, err = d.feedStartupLen(p, emit)
		case stStartupBody:
			n, err = d.feedStartupBody(p, emit)
		case stHeader:
			n, err = d.feedHeader(p, emit)
		case stBody:
			n, err = d.feedBody(p, emit)
		case stEncrypted:
			n = len(p)
		case stDone:
			err = d.frameErr(0, -1, ErrTrailingData)
		}
		d.off += int64(n)
		p = p[n:]
		if err != nil {
			return err
		}
	}
	return nil
}

// frameErr records and returns a fatal error.
func (d *Decoder) frameErr(typ byte, length int64, reason error) error {
	d.err = &FrameError{Dir: d.dir, Offset: d.msgOff, Type: typ, Length: length, Err: reason}
	return d.err
}

// feedHeader reads the type byte and length of a typed message, or the
// one-byte answer to an encryption request.
func (d *Decoder) feedHeader(p []byte, emit func(*Message) error) (int, error) {
	if d.nhdr == 0 {
		d.msgOff = d.off
		if d.dir == Backend {
			if req := Kind(d.sess.pendingEnc.Load()); req != 0 {
				return d.encryptionAnswer(req, p[0], emit)
			}
		} else if d.sess.encrypted.Load() {
			d.st = stEncrypted
			return 0, nil
		}
	}
	n := copy(d.hdr[d.nhdr:], p)
	d.nhdr += n
	if d.nhdr < len(d.hdr) {
		return n, nil
	}
	d.nhdr = 0
	typ := d.hdr[0]
	d.length = int64(binary.BigEndian.Uint32(d.hdr[1:]))
	kinds := &frontendKinds
	if d.dir == Backend {
		kinds = &backendKinds
	}
	d.kind = kinds[typ]
	switch {
	case d.kind == KindUnknown && !d.cfg.AllowUnknown:
		return n, d.frameErr(typ, -1, ErrUnknownType)
	case d.length < 4:
		return n, d.frameErr(typ, d.length, ErrLengthTooShort)
	case d.length > d.cfg.MaxMessageLen:
		return n, d.frameErr(typ, d.length, ErrLengthTooLong)
	}
	d.remain = d.length - 4
	d.buf = d.buf[:0]
	d.cut = false
	d.pickMode()
	if d.remain == 0 {
		return n, d.finish(nil, emit)
	}
	d.st = stBody
	return n, nil
}

// pickMode decides how much of the body to keep.
func (d *Decoder) pickMode() {
	body := d.remain
	switch {
	case d.kind == KindQuery:
		d.mode, d.keep = modeWhole, 0
		if body > int64(d.cfg.MaxSQL)+1 {
			d.mode, d.keep = modePrefix, d.cfg.MaxSQL
		}
	case d.kind == KindDataRow || d.kind == KindCopyData || d.kind == KindBind || d.kind == KindUnknown:
		d.mode = modeSkip
	case body <= int64(d.cfg.MaxBody):
		d.mode = modeWhole
	case d.kind == KindParse:
		d.mode, d.pscan, d.nname = modeParse, 0, 0
	default:
		d.mode, d.cut = modeSkip, true
	}
}

// feedBody consumes body bytes according to the mode, and finishes the
// message when the last one arrives.
func (d *Decoder) feedBody(p []byte, emit func(*Message) error) (int, error) {
	n := len(p)
	if int64(n) > d.remain {
		n = int(d.remain)
	}
	chunk := p[:n]
	d.remain -= int64(n)
	switch d.mode {
	case modeWhole:
		if d.remain == 0 && len(d.buf) == 0 {
			return n, d.finish(chunk, emit) // whole body in one chunk: no copy
		}
		d.grow(len(d.buf) + n)
		d.buf = append(d.buf, chunk...)
	case modePrefix:
		if room := d.keep - len(d.buf); room > 0 {
			d.grow(d.keep)
			d.buf = append(d.buf, chunk[:min(room, n)]...)
		}
	case modeParse:
		d.scanParse(chunk)
	}
	if d.remain == 0 {
		return n, d.finish(d.buf, emit)
	}
	return n, nil
}

// grow makes room for need bytes in buf, never beyond need, so that the
// buffer stays within Config.Bound.
func (d *Decoder) grow(need int) {
	if need <= cap(d.buf) {
		return
	}
	c := max(need, min(2*cap(d.buf), d.bound))
	nb := make([]byte, len(d.buf), c)
	copy(nb, d.buf)
	d.buf = nb
}

// scanParse keeps a large Parse's statement name (up to maxStmtName bytes)
// and SQL prefix (up to MaxSQL bytes) in buf, as name NUL sql.
func (d *Decoder) scanParse(chunk []byte) {
	for len(chunk) > 0 && d.pscan < 2 {
		limit := maxStmtName
		if d.pscan == 1 {
			limit = d.cfg.MaxSQL
		}
		i := 0
		for i < len(chunk) && chunk[i] != 0 {
			i++
		}
		have := len(d.buf)
		if d.pscan == 1 {
			have -= d.nname + 1
		}
		take := min(i, max(limit-have, 0))
		if take < i {
			d.cut = true
		}
		d.grow(len(d.buf) + take + 1)
		d.buf = append(d.buf, chunk[:take]...)
		if i == len(chunk) {
			return
		}
		if d.pscan == 0 {
			d.nname = len(d.buf)
			d.buf = append(d.buf, 0)
		}
		d.pscan++
		chunk = chunk[i+1:]
	}
}

// finish emits the current typed message with the kept body bytes. The
// Message and the pgproto3 value its body decodes into are borrowed from
// scratchPool until Feed returns (see scratch): one borrowing serves all
// the messages of a chunk.
func (d *Decoder) finish(body []byte, emit func(*Message) error) error {
	d.st = stHeader
	if d.sc == nil {
		d.sc = scratchPool.Get().(*scratch)
	}
	sc := d.sc
	m := &sc.msg
	*m = Message{Kind: d.kind, Type: d.hdr[0], Length: d.length, Truncated: d.cut}
	switch d.mode {
	case modePrefix:
		m.SQL, m.Truncated = body, true
	case modeParse:
		m.Name = body
		if d.pscan > 0 {
			m.Name, m.SQL = body[:d.nname], body[d.nname+1:]
		}
		m.Truncated = true
	case modeWhole:
		d.decodeBody(m, &sc.bodies, body)
	}
	err := emit(m)
	d.buf = d.buf[:0]
	return err
}
