package tcpproxy

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluice-proxy/sluice/cluster"
	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/internal/guard"
	"github.com/sluice-proxy/sluice/proxy/ioloop"
)

// spliceChunk bounds one kernel splice call so byte stats move during long
// transfers; it is not a buffer (splice moves data through a kernel pipe).
const spliceChunk = 1 << 20

// bufSize is the user-space buffer per direction when bytes must pass through
// Go (an observer taps them, or TLS is terminated). It bounds what sluice
// holds per direction: a slow reader stops the other side's reads.
const bufSize = 32 << 10

var bufPool = sync.Pool{New: func() any { b := make([]byte, bufSize); return &b }}

// pipe moves bytes between one downstream and one upstream connection.
type pipe struct {
	proxy *Proxy
	s     *filters.Session
	down  filters.Conn
	up    *cluster.UpstreamConn

	rx, tx atomic.Uint64               // bytes from downstream, bytes to downstream
	fl     atomic.Pointer[ioloop.Flow] // set when an event loop moves the bytes

	connMu           sync.Mutex
	aborted          bool
	bulkDown, bulkUp *net.TCPConn // Go conns again after a loop gave up a bulk flow
	reasonMu         sync.Mutex
	reason           string
	idle             idleWatcher // armed when idle_timeout is set
}

// setReason records the first termination reason.
func (pp *pipe) setReason(r string) {
	pp.reasonMu.Lock()
	if pp.reason == "" {
		pp.reason = r
	}
	pp.reasonMu.Unlock()
}

// abort ends both directions at once.
func (pp *pipe) abort(reason string) {
	pp.setReason(reason)
	if fl := pp.fl.Load(); fl != nil {
		fl.Abort()
	}
	pp.down.Close()
	pp.up.Conn.Close()
	pp.connMu.Lock()
	pp.aborted = true
	if pp.bulkDown != nil {
		pp.bulkDown.Close()
		pp.bulkUp.Close()
	}
	pp.connMu.Unlock()
}

// resumeBulk takes back a flow an event loop gave up because it turned
// bulk: new Go conns over its sockets, on which the goroutine path splices.
func (pp *pipe) resumeBulk(fl *ioloop.Flow) (down, up *net.TCPConn, err error) {
	down, up, err = fl.TakeBack()
	if err != nil {
		return nil, nil, err
	}
	pp.connMu.Lock()
	pp.bulkDown, pp.bulkUp = down, up
	if pp.aborted { // an abort came while the sockets had no Go conn
		down.Close()
		up.Close()
	}
	pp.connMu.Unlock()
	return down, up, nil
}

// run moves the bytes until both sides are done, then records how the
// connection ended. When an event loop moves them and the server lets the
// terminal detach, run returns at once and the rest runs when the flow ends
// (flowEnded, from the flow's OnDone): no goroutine waits for an idle flow.
func (pp *pipe) run(ctx context.Context) {
	defer pp.containPanic()
	st := pp.proxy.stats
	cfg := pp.proxy.cfg
	fl, herr := pp.handover()
	pp.fl.Store(fl)
	var stops []func() // undo the watchers below when the connection ends
	stopCtx := context.AfterFunc(ctx, func() { pp.abort("drain") })
	stops = append(stops, func() { stopCtx() })
	if d := cfg.MaxDownstreamConnectionDuration.D(); d > 0 {
		t := time.AfterFunc(d, func() { st.MaxDuration.Inc(); pp.abort("max_downstream_connection_duration") })
		stops = append(stops, func() { t.Stop() })
	}
	if d := cfg.IdleTimeout.D(); d > 0 {
		pp.idle.start(pp, d)
		stops = append(stops, pp.idle.stop)
	}
	if fl != nil && herr == nil && pp.s.Detach() {
		fl.OnDone(func() {
			defer pp.s.Finish()
			defer pp.containPanic()
			defer runStops(stops)
			pp.flowEnded(fl)
		})
		return
	}
	defer runStops(stops)

	switch {
	case herr != nil:
		// An observer failed on bytes it had held back, or the sockets
		// could not be handed over: as a failed Read.
		pp.s.Log.Debug("tcp_proxy: handing the connection to an event loop failed", "err", herr)
		pp.abort(errReason(false))
		pp.end(0)
	case fl != nil:
		<-fl.Done()
		pp.flowEnded(fl)
	default:
		pp.end(pp.copyBoth(pp.down, pp.up))
	}
}

// runStops runs the watchers' stops, last first (as defers did).
func runStops(stops []func()) {
	for i := len(stops) - 1; i >= 0; i-- {
		stops[i]()
	}
}

// flowEnded finishes a connection whose flow an event loop ended or gave
// back as a bulk transfer (which then goes on here, spliced).
func (pp *pipe) flowEnded(fl *ioloop.Flow) {
	if fl.Bulk() {
		down, up, err := pp.resumeBulk(fl)
		if err != nil {
			pp.s.Log.Warn("tcp_proxy: taking a bulk transfer back from its event loop failed", "err", err)
			pp.abort(errReason(false))
			pp.end(0)
			return
		}
		defer down.Close()
		defer up.Close()
		pp.end(pp.copyBoth(down, up))
		return
	}
	if ferr, fromUp := fl.Err(); ferr != nil {
		var pe *guard.PanicError
		if errors.As(ferr, &pe) { // an observer's callback panicked in the loop
			pp.s.Contain(pe)
		}
		pp.setReason(errReason(fromUp))
	}
	pp.end(fl.First())
}

// end records how the connection ended; first says which side reached EOF
// first (1 upstream, 2 downstream, 0 neither).
func (pp *pipe) end(first int32) {
	upstreamFirst := first == 1
	if upstreamFirst {
		pp.setReason("upstream_close")
	} else {
		pp.setReason("downstream_close")
	}
	pp.up.CloseBy(upstreamFirst)
	rx, tx := pp.rx.Load(), pp.tx.Load()
	pp.s.UpdateAccess(func(a *filters.AccessRecord) {
		a.BytesReceived, a.BytesSent = rx, tx
		if a.TerminationReason == "" {
			a.TerminationReason = pp.reason
		}
	})
}

// copyBoth moves both directions, one on this goroutine and one on a new
// one. An error in either aborts both; otherwise each ends at its EOF. It
// returns which ended first (1: upstream to downstream, 2: the other).
func (pp *pipe) copyBoth(down, up io.ReadWriter) int32 {
	var firstDone atomic.Int32
	finish := func(fromUpstream bool, err error) {
		if err != nil {
			pp.abort(errReason(fromUpstream))
		}
		v := int32(2)
		if fromUpstream {
			v = 1
		}
		firstDone.CompareAndSwap(0, v)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer pp.containPanic()
		finish(false, pp.copy(up, down, false))
	}()
	finish(true, pp.copy(down, up, true))
	<-done
	return firstDone.Load()
}

// containPanic, deferred by each goroutine moving the pipe's bytes, turns a
// panic (an observer's callback, a codec) into the end of this connection
// only: logged and counted by the session, both sides closed so that the
// other direction ends too.
func (pp *pipe) containPanic() {
	if v := recover(); v != nil {
		pp.s.Contain(guard.Recovered(v))
		pp.abort("panic")
	}
}

// handover gives the pipe to an event loop when both sides are plain TCP
// and every observer can be driven by callbacks; nil means the goroutine
// path (TLS, SQL gates, no loops).
func (pp *pipe) handover() (*ioloop.Flow, error) {
	up, ok := pp.up.Conn.(*net.TCPConn)
	if !ok || pp.proxy.loops == nil || pp.proxy.loops.Len() == 0 {
		return nil, nil
	}
	t, ok, err := filters.HandoverOf(pp.down)
	if !ok || err != nil {
		return nil, err
	}
	return pp.proxy.loops.Start(t, up, pp)
}

func errReason(fromUpstream bool) string {
	if fromUpstream {
		return "upstream_error"
	}
	return "downstream_error"
}

// copy moves src to dst until EOF (then half-closes dst) or an error.
// fromUpstream says which way the bytes go, for the stats.
func (pp *pipe) copy(dst, src io.ReadWriter, fromUpstream bool) error {
	count := func(n int64) { pp.count(fromUpstream, n) }
	if pc, ok := src.(*filters.PrefixConn); ok && len(pc.Prefix) > 0 {
		// Bytes read ahead (a peeked ClientHello) go first, then splice.
		n, err := dst.Write(pc.Prefix)
		count(int64(n))
		if err != nil {
			return err
		}
		pc.Prefix = nil
	}
	dstTCP, srcTCP := asTCP(dst), asTCP(src)
	var err error
	if dstTCP != nil && srcTCP != nil {
		// Like haproxy's splice-auto: small exchanges go through a
		// buffer (one read and one write syscall each); once a read fills
		// the buffer the stream is bulk and the kernel splices the rest.
		var bulk bool
		bulk, err = bufferUntilBulk(dst, src, count, pp.bufferedGauge(fromUpstream))
		if bulk && err == nil {
			err = spliceLoop(dstTCP, srcTCP, count)
		}
	} else {
		err = bufferLoop(dst, src, count, pp.bufferedGauge(fromUpstream))
	}
	if err != nil {
		return err
	}
	if cw, ok := dst.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	return nil
}

// count adds n bytes moved one way to the byte stats.
func (pp *pipe) count(fromUpstream bool, n int64) {
	if n <= 0 {
		return
	}
	u := uint64(n)
	if fromUpstream {
		pp.tx.Add(u)
		pp.proxy.stats.TxBytes.Add(u)
		pp.up.CountBytes(u, 0)
	} else {
		pp.rx.Add(u)
		pp.proxy.stats.RxBytes.Add(u)
		pp.up.CountBytes(0, u)
	}
}

// Moved and Buffered make the pipe its event-loop flow's ioloop.Meter.
func (pp *pipe) Moved(fromUp bool, n int64) { pp.count(fromUp, n) }

func (pp *pipe) Buffered(fromUp bool, delta int64) { pp.bufferedGauge(fromUp)(delta) }

func (pp *pipe) bufferedGauge(fromUpstream bool) func(int64) {
	g := pp.proxy.stats.RxBuffered
	if fromUpstream {
		g = pp.proxy.stats.TxBuffered
	}
	return g.Add
}

func asTCP(rw io.ReadWriter) *net.TCPConn {
	switch c := rw.(type) {
	case *net.TCPConn:
		return c
	case *cluster.UpstreamConn:
		return c.TCP()
	case *filters.PrefixConn:
		// Only the reading direction touches Prefix, and it flushes it
		// before asking; the writing direction uses the TCPConn directly.
		return c.TCPConn
	}
	return nil
}

// spliceLoop lets the kernel move the bytes (TCPConn.ReadFrom splices from a
// TCPConn or a LimitedReader over one), a chunk at a time for the stats.
func spliceLoop(dst, src *net.TCPConn, count func(int64)) error {
	for {
		lr := &io.LimitedReader{R: src, N: spliceChunk}
		n, err := dst.ReadFrom(lr)
		count(n)
		if err != nil {
			return err
		}
		if lr.N > 0 { // the source reached EOF before the chunk was used up
			return nil
		}
	}
}

// bufferLoop copies through one fixed buffer: nothing is read from src until
// the previous read has been written to dst, so memory stays bounded and a
// slow reader slows the writer down.
func bufferLoop(dst io.Writer, src io.Reader, count func(int64), buffered func(int64)) error {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	for {
		n, rerr := src.Read(buf)
		if n > 0 {
			buffered(int64(n))
			w, werr := dst.Write(buf[:n])
			buffered(-int64(n))
			count(int64(w))
			if werr != nil {
				return werr
			}
		}
		if rerr != nil {
			if errors.Is(rerr, io.EOF) {
				return nil
			}
			return rerr
		}
	}
}

// bufferUntilBulk copies like bufferLoop until a read fills the whole buffer,
// which it writes and then reports bulk=true; it returns bulk=false at EOF.
func bufferUntilBulk(dst io.Writer, src io.Reader, count func(int64), buffered func(int64)) (bulk bool, err error) {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	for {
		n, rerr := src.Read(buf)
		if n > 0 {
			buffered(int64(n))
			w, werr := dst.Write(buf[:n])
			buffered(-int64(n))
			count(int64(w))
			if werr != nil {
				return false, werr
			}
		}
		if rerr != nil {
			if errors.Is(rerr, io.EOF) {
				return false, nil
			}
			return false, rerr
		}
		if n == len(buf) {
			return true, nil
		}
	}
}

// activity returns a number that changes whenever bytes move either way: the
// bytes counted so far plus the kernel's received-byte counters of both
// sockets, which also see bytes still inside a splice call.
func (pp *pipe) activity() uint64 {
	var d, u net.Conn = pp.s.Downstream, pp.up.Conn
	pp.connMu.Lock()
	if pp.bulkDown != nil { // the sockets' current Go conns
		d, u = pp.bulkDown, pp.bulkUp
	}
	pp.connMu.Unlock()
	return pp.rx.Load() + pp.tx.Load() + tcpBytesReceived(d) + tcpBytesReceived(u)
}
