package zookeeper

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	zk "github.com/sluice-proxy/sluice/codec/zookeeper"
	"github.com/sluice-proxy/sluice/filters"
)

// maxPending bounds the requests in flight a connection remembers for
// matching replies; beyond it a reply counts without its opcode (as
// unknown_opcode_latency). ZooKeeper's own default for a session's
// outstanding requests (globalOutstandingLimit) is 1000.
const maxPending = 16384

// deniedPath is the path of the exists that replaces a refused request: a
// NUL cannot be in a znode path, so the server answers with an error and no
// side effect (NONODE or BADARGUMENTS), which the filter turns into NOAUTH.
const deniedPath = "/\x00sluice-denied"

var (
	errProtocol  = errors.New("zookeeper_proxy: closing the connection on malformed input")
	errDenyClose = errors.New("zookeeper_proxy: request refused, closing the connection")
)

// pend is a request in flight.
type pend struct {
	xid   int32
	op    zk.Opcode
	start time.Time
}

// conn is the client connection as the terminal sees it: Read decodes the
// client's requests (and, under a gate, replaces refused ones), Write
// decodes the server's replies (and rewrites refused ones' errors).
type conn struct {
	filters.Conn
	f      *Filter
	s      *filters.Session
	reqs   *zk.RequestDecoder  // reading goroutine (or loop)
	resps  *zk.ResponseDecoder // writing goroutine (or loop)
	onReq  func(*zk.Request) error
	onResp func(*zk.Response) error

	// Reading goroutine.
	started  bool
	gated    bool
	hold     filters.HoldReader
	raw      []byte // client bytes of frames not yet released (gated)
	out      []byte
	verdicts []verdict

	// Writing goroutine.
	patcher zk.ErrPatcher

	gatedW         atomic.Bool
	word           atomic.Bool // a four-letter word command: bytes pass undecoded
	failed         atomic.Bool
	midReq, midRes atomic.Bool

	// meta is published once as the session's metadata and updated per
	// message.
	meta liveMetadata

	mu        sync.Mutex
	pending   []pend
	head      int
	denied    []int32
	connectAt time.Time
}

// verdict is what happens to one complete client frame under a gate.
type verdict struct {
	size int
	xid  int32
	deny bool
}

func newConn(f *Filter, s *filters.Session, c filters.Conn) *conn {
	cn := &conn{Conn: c, f: f, s: s, reqs: zk.NewRequestDecoder(f.codec), resps: zk.NewResponseDecoder(f.codec)}
	cn.onReq, cn.onResp = cn.request, cn.response
	s.SetMetadata(MetadataNamespace, &cn.meta)
	s.OnClose(cn.closed)
	return cn
}

// start decides, once every observer has run, whether requests are gated.
func (c *conn) start() {
	c.started = true
	if c.s.HasRequestGates() {
		c.gated = true
		c.gatedW.Store(true)
	}
}

// closed counts a frame cut short by the end of the connection.
func (c *conn) closed() {
	if (c.midReq.Load() || c.midRes.Load()) && !c.failed.Load() {
		c.f.stats.DecoderError.Inc()
	}
}

// Read returns client bytes for the server after decoding them.
func (c *conn) Read(p []byte) (int, error) {
	if !c.started {
		c.start()
	}
	if c.gated {
		return c.hold.Read(c.Conn, p, c.decide)
	}
	n, err := c.Conn.Read(p)
	if n > 0 {
		if ferr := c.feedReq(p[:n]); ferr != nil {
			return 0, ferr
		}
	}
	return n, err
}

// Write decodes server bytes (rewriting refused requests' replies) and
// writes them to the client.
func (c *conn) Write(p []byte) (int, error) {
	if c.word.Load() {
		return c.Conn.Write(p)
	}
	if c.gatedW.Load() {
		c.patcher.Patch(p, c.wasDenied, zk.ErrNoAuth)
	}
	if err := c.feedResp(p); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}

func (c *conn) feedReq(p []byte) error {
	err := c.reqs.Feed(p, c.onReq)
	c.midReq.Store(c.reqs.Mid())
	if err != nil {
		return c.decodeErr(err)
	}
	return nil
}

func (c *conn) feedResp(p []byte) error {
	if c.word.Load() {
		return nil
	}
	err := c.resps.Feed(p, c.onResp)
	c.midRes.Store(c.resps.Mid())
	if err != nil {
		return c.decodeErr(err)
	}
	return nil
}

// decodeErr counts and logs a malformed frame; the connection then ends.
func (c *conn) decodeErr(err error) error {
	var fe *zk.FrameError
	if !errors.As(err, &fe) {
		return err
	}
	if c.failed.Swap(true) {
		return fmt.Errorf("%w: %w", errProtocol, fe)
	}
	st := c.f.stats
	st.DecoderError.Inc()
	if o := st.op(fe.Op); o != nil && o.decErr != nil {
		o.decErr.Inc()
	}
	c.meta.setError()
	c.log().Warn("zookeeper_proxy: closing the connection on malformed input", "err", fe)
	return fmt.Errorf("%w: %w", errProtocol, fe)
}

func (c *conn) log() *slog.Logger {
	if c.s.Log != nil {
		return c.s.Log
	}
	return slog.Default()
}

// Handover gives the bytes to an event loop with the decoders as
// callbacks; a gated connection stays on Read and Write.
func (c *conn) Handover() (filters.Taps, bool, error) {
	if !c.started {
		c.start()
	}
	if c.gated {
		return filters.Taps{}, false, nil
	}
	in, ok, err := filters.HandoverOf(c.Conn)
	if !ok || err != nil {
		return in, ok, err
	}
	if len(in.Pending) > 0 {
		if err := c.feedReq(in.Pending); err != nil {
			return filters.Taps{}, false, err
		}
	}
	in.OnRead = filters.ChainTaps(in.OnRead, c.feedReq)
	in.OnWrite = filters.ChainTaps(c.feedResp, in.OnWrite)
	return in, true, nil
}

var (
	_ filters.Conn         = (*conn)(nil)
	_ filters.Handoverable = (*conn)(nil)
)
