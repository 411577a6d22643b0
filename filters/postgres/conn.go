package postgres

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	pg "github.com/sluice-proxy/sluice/codec/postgres"
	"github.com/sluice-proxy/sluice/filters"
)

// errDenyClose ends a connection whose statement a gate refused with Close,
// or that could not be held for a gate.
var errDenyClose = errors.New("postgres_proxy: statement refused, closing the connection")

// conn is the client connection as the terminal sees it. Read returns the
// client's bytes for the server after decoding them; Write decodes the
// server's bytes and writes them to the client.
//
// Without SQL gates both directions pass each chunk through as it comes, so
// memory is the codec's bound. With gates, Query and Parse messages are held
// until complete (at most max_sql_prefix plus 64 KiB) and a denied one is
// replaced by a statement the server rejects with the gate's error (see
// deny.go); the server's answers to the replacement Parse and Bind are
// dropped on the way back, so the client sees the error where the server
// would have put it.
type conn struct {
	filters.Conn // the accepted connection, below any TLS the filter terminates
	f            *Filter
	s            *filters.Session
	rw           filters.Conn // where the client is read and written: Conn or TLS over it
	pair         *pg.Pair
	onFront      func(*pg.Message) error
	onBack       func(*pg.Message) error
	route        string         // the cluster an observer route chose, for cancel keys
	passthrough  bool           // the client's SSLRequest went to the server
	onLoop       bool           // handed over: callbacks run on an event loop's thread
	started      bool           // reading goroutine: start ran
	gatedW       atomic.Bool    // g is set (read by the writing goroutine)
	inTx         atomic.Bool    // inside an explicit transaction
	pause        *filters.Pause // holds the client's reading while a parse runs off the loop
	metaNext     uint64         // statements numbered on the loop (countParse)
	prefix       []byte         // the startup packet, returned by the first Reads
	ftally       tally          // client messages counted in the chunk being decoded (reading side)
	btally       tally          // server messages and statements counted in the chunk being decoded (writing side)

	metaMu   sync.Mutex
	metaLast uint64 // the number of the statement whose metadata is published

	keyMu sync.Mutex
	keys  []cancelKey

	// g is the gated path's state, only for connections with SQL gates;
	// spans the query spans' queue, only when tracing is on (tracing.go).
	// Both are apart so that the common connection, often idle for long,
	// does not carry them (issue 20: memory per idle connection).
	g     *gateState
	spans *spanQueue
}

// gateState is a gated connection's statement holding and answer dropping.
type gateState struct {
	// Reading goroutine.
	hold    filters.HoldReader // client bytes released for the server
	out     []byte
	held    []byte
	stream  bool // the current client message is forwarded as it comes
	verdict filters.SQLVerdict
	syncs   uint64 // Query, Sync and FunctionCall messages forwarded
	parses  int    // Parse messages forwarded since the last sync point
	binds   int    // Bind messages forwarded since the last sync point
	ft      tracker
	ftally  tally // client messages counted in the chunk being decoded

	// Writing goroutine.
	bt         tracker
	btally     tally // server messages and statements counted in the chunk being decoded
	bheld      []byte
	sawStartup bool   // the startup ReadyForQuery went by
	rfqs       uint64 // ReadyForQuery messages after the startup one
	parsed     int    // ParseComplete messages since the last ReadyForQuery
	bound      int    // BindComplete messages since the last ReadyForQuery

	stripMu sync.Mutex
	strips  []strip
}

// strip names the server's answers to a denial's replacement Parse and
// Bind, which the client never sent: the parse'th ParseComplete and the
// bind'th BindComplete before the ReadyForQuery that answers sync point
// number sync. A batch that failed earlier gets neither; the entry then
// expires at that ReadyForQuery.
type strip struct {
	sync        uint64
	parse, bind int
}

// maxStrips bounds denied Parses awaiting their ReadyForQuery.
const maxStrips = 1024

func newConn(f *Filter, s *filters.Session, c, rw filters.Conn, prefix []byte) *conn {
	cn := &conn{Conn: c, f: f, s: s, rw: rw, pair: pg.NewPair(f.codec), prefix: prefix}
	cn.onFront, cn.onBack = cn.front, cn.back
	if f.spans != nil {
		cn.spans = new(spanQueue)
	}
	s.OnClose(cn.closed)
	return cn
}

// closed forgets the session's cancel keys.
func (c *conn) closed() {
	c.keyMu.Lock()
	defer c.keyMu.Unlock()
	for _, k := range c.keys {
		c.f.cancels.remove(k.pid, k.secret)
	}
	c.keys = nil
}

// Read returns client bytes for the server.
func (c *conn) Read(p []byte) (int, error) {
	if !c.started {
		if err := c.start(); err != nil {
			return 0, err
		}
	}
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		if err := c.feedFront(c.prefix[:n]); err != nil {
			return 0, err
		}
		c.prefix = c.prefix[n:]
		return n, nil
	}
	if c.g != nil {
		return c.readGated(p)
	}
	n, err := c.rw.Read(p)
	if n > 0 {
		if ferr := c.feedFront(p[:n]); ferr != nil {
			return 0, ferr
		}
	}
	return n, err
}

// start decides, once every observer has run, whether statements are
// gated. Its error is returned again by every later Read.
func (c *conn) start() error {
	if !c.s.HasSQLGates() {
		c.started = true
		return nil
	}
	if c.passthrough {
		return fmt.Errorf("%w: a SQL gate needs the statements but the client's TLS is passed through "+
			"(enable terminate_ssl, or put the gate before postgres_proxy so that SSL is refused)", errDenyClose)
	}
	c.started = true
	c.g = new(gateState)
	c.gatedW.Store(true)
	return nil
}

// feedFront decodes client bytes; a framing error ends the connection.
func (c *conn) feedFront(p []byte) error {
	err := c.pair.Frontend.Feed(p, c.onFront)
	c.ftally.flushFront(c.f.stats)
	if err != nil {
		return c.decodeErr(err)
	}
	return nil
}

// feedBack decodes server bytes; a framing error ends the connection.
func (c *conn) feedBack(p []byte) error {
	err := c.pair.Backend.Feed(p, c.onBack)
	c.btally.flushBack(c.f.stats)
	if err != nil {
		return c.decodeErr(err)
	}
	return nil
}

// decodeErr counts and logs a framing error (once per connection: the
// decoders' errors are sticky but the connection ends on the first).
func (c *conn) decodeErr(err error) error {
	var fe *pg.FrameError
	if !errors.As(err, &fe) {
		return err
	}
	if errors.Is(fe, pg.ErrUnknownType) {
		if fe.Dir == pg.Frontend {
			c.f.stats.countFrontend(true)
		} else {
			c.f.stats.countBackend(true)
		}
	}
	c.f.stats.ProtocolErrors.Inc()
	c.s.Log.Warn("postgres_proxy: closing the connection on malformed input", "err", fe)
	return fmt.Errorf("%w: %w", errProtocol, fe)
}

// Write decodes server bytes and writes them to the client.
func (c *conn) Write(p []byte) (int, error) {
	if err := c.feedBack(p); err != nil {
		return 0, err
	}
	if c.gatedW.Load() {
		return c.writeGated(p)
	}
	return c.rw.Write(p)
}

// CloseWrite half-closes the client side (TLS close_notify when terminated).
func (c *conn) CloseWrite() error { return c.rw.CloseWrite() }

// Close closes the client connection (and its TLS).
func (c *conn) Close() error {
	if c.rw != c.Conn {
		c.rw.Close()
	}
	return c.Conn.Close()
}

var _ filters.Conn = (*conn)(nil)

// Handover gives the client's bytes to an event loop: the held startup
// packet (decoded as Read would) and the decoders as callbacks. A gated or
// TLS-terminated connection stays on Read and Write.
func (c *conn) Handover() (filters.Taps, bool, error) {
	if !c.started {
		if err := c.start(); err != nil {
			return filters.Taps{}, false, err
		}
	}
	if c.g != nil || c.rw != c.Conn {
		return filters.Taps{}, false, nil
	}
	in, ok, err := filters.HandoverOf(c.Conn)
	if !ok || err != nil {
		return in, ok, err
	}
	if in.Pause == nil {
		in.Pause = &filters.Pause{}
	}
	c.pause = in.Pause
	pending := c.prefix
	c.prefix = nil
	if err := c.feedFront(pending); err != nil {
		return filters.Taps{}, false, err
	}
	if len(in.Pending) > 0 {
		if err := c.feedFront(in.Pending); err != nil {
			return filters.Taps{}, false, err
		}
		pending = append(pending[:len(pending):len(pending)], in.Pending...)
	}
	in.Pending = pending
	c.onLoop = true
	in.OnRead = filters.ChainTaps(in.OnRead, c.feedFront)
	in.OnWrite = filters.ChainTaps(c.feedBack, in.OnWrite)
	return in, true, nil
}
