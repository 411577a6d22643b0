package zookeeper

// Request is one decoded client frame. Path aliases the frame and, like
// the whole value, is valid only during the callback (copy what you keep):
// observing a request allocates nothing.
type Request struct {
	// Op is the opcode; OpConnect for the session's first frame.
	Op  Opcode
	Xid int32
	// Size is the frame's length on the wire, the 4-byte prefix included.
	Size int
	// Path is the znode path of path operations (nil otherwise).
	Path  []byte
	Watch bool // getdata, exists, getchildren(2): a watch is set
	// Version is the expected version of delete, setdata, setacl, check
	// (HasVersion says whether the request has one).
	Version    int32
	HasVersion bool
	// Flags are create's flags (CreateMode names them).
	Flags int32
	// Scheme is setauth's scheme ("digest").
	Scheme []byte
	// Mode is addwatch's mode and checkwatches/removewatches' watcher type.
	Mode int32

	// Connect request fields.
	ProtocolVersion int32
	Timeout         int32
	SessionID       int64
	ReadOnly        bool

	// Ops are a multi's operations (each with Op, Path, Version, Flags).
	Ops []Request
	// Word is the command of an OpFourLetterWord ("ruok").
	Word []byte
}

// maxMultiOps bounds the operations of one multi a Request keeps; a frame
// of MaxPacketBytes cannot hold many more real ones.
const maxMultiOps = 4096

// RequestDecoder decodes the client-to-server stream.
type RequestDecoder struct {
	f       framer
	started bool
	req     Request
	head    [4]byte // the stream's first 4 bytes, to tell a four-letter word
	nHead   int
	word    bool // the stream is a four-letter word command: not framed
}

// fourLetterWords are ZooKeeper's admin commands, sent as the first bytes
// of a connection on the client port instead of a connect request; the
// server answers in plain text and closes.
var fourLetterWords = map[string]bool{
	"conf": true, "cons": true, "crst": true, "dump": true, "envi": true, "ruok": true, "srst": true,
	"srvr": true, "stat": true, "wchc": true, "wchp": true, "wchs": true, "dirs": true, "mntr": true,
	"isro": true, "hash": true, "gtmk": true, "stmk": true,
}

// NewRequestDecoder returns a decoder of a client stream from its start.
func NewRequestDecoder(c Config) *RequestDecoder {
	return &RequestDecoder{f: framer{max: c.max()}}
}

// Mid reports whether the stream stopped inside a frame (a truncated
// frame, when the client is gone).
func (d *RequestDecoder) Mid() bool {
	return d.f.mid() || !d.word && !d.started && d.nHead > 0 && d.nHead < 4
}

// Feed decodes p, calling fn for each complete request. A malformed frame
// returns a *FrameError, as does every later call. fn's error stops
// decoding and is returned. A stream that starts with a four-letter word
// is reported once (Op OpFourLetterWord, Word) and not decoded further.
func (d *RequestDecoder) Feed(p []byte, fn func(*Request) error) error {
	if d.word {
		return nil
	}
	if !d.started && d.nHead < 4 {
		k := copy(d.head[d.nHead:], p)
		d.nHead += k
		p = p[k:]
		if d.nHead < 4 {
			return nil
		}
		if fourLetterWords[string(d.head[:])] {
			d.word = true
			d.req = Request{Op: OpFourLetterWord, Size: 4, Word: d.head[:]}
			return fn(&d.req)
		}
		if err := d.frames(d.head[:], fn); err != nil {
			return err
		}
	}
	return d.frames(p, fn)
}

// Word reports whether the stream is a four-letter word command.
func (d *RequestDecoder) Word() bool { return d.word }

func (d *RequestDecoder) frames(p []byte, fn func(*Request) error) error {
	return d.f.feed(p, holdAll, func(body []byte, n int) error {
		r := &d.req
		ops := r.Ops[:0]
		*r = Request{Size: n + 4, Ops: ops}
		if !d.started {
			d.started = true
			if err := parseConnect(body, r); err != nil {
				return &FrameError{Op: OpConnect, Err: err}
			}
		} else if err := parseRequest(body, r); err != nil {
			return &FrameError{Op: r.Op, Err: err}
		}
		return fn(r)
	})
}

func holdAll(_ []byte, n int) int { return n }

// parseConnect reads a ConnectRequest: protocolVersion, lastZxidSeen,
// timeOut, sessionId, passwd and (3.5+) readOnly.
func parseConnect(b []byte, r *Request) error {
	c := cursor{b: b}
	r.Op, r.Xid = OpConnect, 0
	r.ProtocolVersion = c.int32()
	c.int64()
	r.Timeout = c.int32()
	r.SessionID = c.int64()
	c.buffer()
	if c.err == nil && len(c.b) > 0 {
		r.ReadOnly = c.bool()
	}
	return c.err
}

// parseRequest reads a RequestHeader and the body of its opcode.
func parseRequest(b []byte, r *Request) error {
	c := cursor{b: b}
	r.Xid = c.int32()
	r.Op = Opcode(c.int32())
	if c.err != nil {
		r.Op = OpError
		return c.err
	}
	switch r.Op {
	case OpMulti, OpMultiRead:
		for c.err == nil {
			typ := c.int32()
			done := c.bool()
			c.int32() // err
			if done || c.err != nil {
				break
			}
			if len(r.Ops) >= maxMultiOps {
				return ErrBadField
			}
			r.Ops = append(r.Ops, Request{Op: Opcode(typ), Xid: r.Xid})
			op := &r.Ops[len(r.Ops)-1]
			switch op.Op {
			case OpCreate, OpCreate2, OpCreateContainer, OpCreateTTL, OpDelete, OpSetData, OpCheck,
				OpGetData, OpGetChildren:
			default:
				return ErrBadField
			}
			if r.Op == OpMultiRead {
				op.Path = c.buffer() // multiRead's ops carry a path only
				continue
			}
			parseBody(&c, op)
		}
		return c.err
	}
	parseBody(&c, r)
	return c.err
}

// parseBody reads the record of r.Op; an opcode it does not know is left
// unread (passed on as is, like SASL).
func parseBody(c *cursor, r *Request) {
	switch r.Op {
	case OpGetData, OpExists, OpGetChildren, OpGetChildren2:
		r.Path = c.buffer()
		r.Watch = c.bool()
	case OpCreate, OpCreate2, OpCreateContainer, OpCreateTTL:
		r.Path = c.buffer()
		c.buffer() // data
		c.acls()
		r.Flags = c.int32()
		if r.Op == OpCreateTTL {
			c.int64()
		}
	case OpSetData:
		r.Path = c.buffer()
		c.buffer()
		r.Version, r.HasVersion = c.int32(), true
	case OpDelete, OpCheck, OpDeleteContainer:
		r.Path = c.buffer()
		if r.Op != OpDeleteContainer {
			r.Version, r.HasVersion = c.int32(), true
		}
	case OpSetACL:
		r.Path = c.buffer()
		c.acls()
		r.Version, r.HasVersion = c.int32(), true
	case OpGetACL, OpSync, OpGetEphemerals, OpGetAllChildrenNumber:
		r.Path = c.buffer()
	case OpCheckWatches, OpRemoveWatches, OpAddWatch:
		r.Path = c.buffer()
		r.Mode = c.int32()
	case OpSetAuth:
		c.int32() // type
		r.Scheme = c.buffer()
		c.buffer()
	case OpSetWatches, OpSetWatches2:
		c.int64()
		n := 3
		if r.Op == OpSetWatches2 {
			n = 5
		}
		for i := 0; i < n; i++ {
			c.strings()
		}
	case OpReconfig:
		c.skipString()
		c.skipString()
		c.skipString()
		c.int64()
	}
}
