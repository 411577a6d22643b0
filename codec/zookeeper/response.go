package zookeeper

// headerLen is a ReplyHeader's length: xid, zxid, err.
const headerLen = 16

// Response is one decoded server frame: a reply (matched to its request
// by Xid), a watch event (Xid -1) or the connect response (Connect).
// Path aliases the frame; the value is valid only during the callback.
type Response struct {
	Xid  int32
	Zxid int64
	Err  int32
	// Size is the frame's length on the wire, the 4-byte prefix included.
	Size int

	// Connect marks the session's first frame, the ConnectResponse.
	Connect         bool
	ProtocolVersion int32
	Timeout         int32
	SessionID       int64
	ReadOnly        bool

	// Event marks a watch event: Type, State and Path.
	Event     bool
	EventType int32
	State     int32
	Path      []byte
}

// ResponseDecoder decodes the server-to-client stream. Only the header of
// a reply is held, so a reply may be longer than MaxPacketBytes (a getData
// of a znode near jute.maxbuffer is, by its stat); the connect response
// and watch events are held whole and limited.
type ResponseDecoder struct {
	f       framer
	started bool
	res     Response
}

// NewResponseDecoder returns a decoder of a server stream from its start.
func NewResponseDecoder(c Config) *ResponseDecoder {
	return &ResponseDecoder{f: framer{max: c.max(), heldOnly: true}}
}

// Mid reports whether the stream stopped inside a frame.
func (d *ResponseDecoder) Mid() bool { return d.f.mid() }

// Feed decodes p, calling fn for each response once its header (or, for
// the connect response and events, its whole body) has arrived.
func (d *ResponseDecoder) Feed(p []byte, fn func(*Response) error) error {
	return d.f.feed(p, d.want, func(body []byte, n int) error {
		r := &d.res
		*r = Response{Size: n + 4}
		if !d.started {
			d.started = true
			if err := parseConnectResponse(body, r); err != nil {
				return &FrameError{Op: OpConnect, Err: err}
			}
			return fn(r)
		}
		if err := parseReply(body, r); err != nil {
			return &FrameError{Op: OpError, Err: err}
		}
		return fn(r)
	})
}

// want holds the connect response whole, then each reply's header, and a
// watch event whole once its header says it is one.
func (d *ResponseDecoder) want(held []byte, n int) int {
	if !d.started {
		return n
	}
	if len(held) >= 4 && int32(uint32(held[0])<<24|uint32(held[1])<<16|uint32(held[2])<<8|uint32(held[3])) == XidWatchEvent {
		return n
	}
	return min(n, headerLen)
}

// parseConnectResponse reads protocolVersion, timeOut, sessionId, passwd
// and (3.5+) readOnly.
func parseConnectResponse(b []byte, r *Response) error {
	c := cursor{b: b}
	r.Connect = true
	r.ProtocolVersion = c.int32()
	r.Timeout = c.int32()
	r.SessionID = c.int64()
	c.buffer()
	if c.err == nil && len(c.b) > 0 {
		r.ReadOnly = c.bool()
	}
	return c.err
}

// parseReply reads a ReplyHeader and, for a watch event, its WatcherEvent.
func parseReply(b []byte, r *Response) error {
	c := cursor{b: b}
	r.Xid = c.int32()
	r.Zxid = c.int64()
	r.Err = c.int32()
	if c.err == nil && r.Xid == XidWatchEvent {
		r.Event = true
		r.EventType = c.int32()
		r.State = c.int32()
		r.Path = c.buffer()
	}
	return c.err
}
