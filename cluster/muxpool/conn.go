package muxpool

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sluice-proxy/sluice/cluster"
)

// conn is one multiplexed upstream connection: writes are serialized by
// wmu, replies are matched to pending calls by id by one reader goroutine.
type conn[R any] struct {
	p  *Pool[R]
	hc *hostConns[R]
	uc *cluster.UpstreamConn

	// wmu guards wbuf (requests encoded, not yet written), spare (the
	// other buffer) and flushing (a sender is writing).
	wmu      sync.Mutex
	wbuf     []byte
	spare    []byte
	flushing bool

	inflight atomic.Int32

	mu       sync.Mutex
	seq      int32
	pending  map[int32]*pendingCall[R]
	dead     bool
	draining bool
}

// pendingCall is a call waiting for its reply, with the breaker unit it holds.
type pendingCall[R any] struct {
	call *Call[R]
	rq   *cluster.Resource
}

func newConn[R any](p *Pool[R], hc *hostConns[R], uc *cluster.UpstreamConn) *conn[R] {
	return &conn[R]{p: p, hc: hc, uc: uc, pending: map[int32]*pendingCall[R]{}}
}

// load is the number of requests given this connection and not done:
// counted when the pool hands the connection out (so that concurrent
// picks see each other), released when the request ends.
func (c *conn[R]) load() int { return int(c.inflight.Load()) }

// release ends one request's claim on the connection.
func (c *conn[R]) release() { c.inflight.Add(-1) }

// send registers call under a fresh id and writes the request. Writes
// are batched: the sender that finds no write in progress writes every
// request queued meanwhile, in one system call, until none is left.
func (c *conn[R]) send(call *Call[R], enc EncodeFunc, oneway bool, timeout time.Duration, rq *cluster.Resource) {
	var zero R
	c.mu.Lock()
	if c.dead {
		c.mu.Unlock()
		c.release()
		rq.Release()
		call.finish(zero, ErrReset)
		return
	}
	c.seq++
	if c.seq <= 0 { // ids stay positive; wrap after 2^31 requests
		c.seq = 1
	}
	id := c.seq
	c.mu.Unlock()

	c.wmu.Lock()
	n0 := len(c.wbuf)
	b, err := enc(c.wbuf, id)
	if err != nil { // this request only: the connection is fine
		c.wmu.Unlock()
		c.release()
		rq.Release()
		call.finish(zero, fmt.Errorf("muxpool: encoding the request: %w", err))
		return
	}
	if !oneway { // registered before its bytes can reach the server
		c.mu.Lock()
		if c.dead {
			c.mu.Unlock()
			c.wmu.Unlock()
			c.release()
			rq.Release()
			call.finish(zero, ErrReset)
			return
		}
		c.pending[id] = &pendingCall[R]{call: call, rq: rq}
		if timeout > 0 {
			call.timer = time.AfterFunc(timeout, func() { c.expire(id) })
		}
		c.mu.Unlock()
	}
	c.wbuf = b
	call.Sent = len(b) - n0
	if c.flushing { // the writing sender takes these bytes too
		c.wmu.Unlock()
		if oneway {
			c.release()
			rq.Release()
			call.finish(zero, nil)
		}
		return
	}
	c.flushing = true
	var werr error
	for len(c.wbuf) > 0 && werr == nil {
		out := c.wbuf
		c.wbuf = c.spare[:0]
		c.wmu.Unlock()
		_, werr = c.uc.Write(out)
		c.uc.CountBytes(0, uint64(len(out)))
		c.wmu.Lock()
		c.spare = nil
		if cap(out) <= 64<<10 {
			c.spare = out[:0]
		}
	}
	c.wbuf = c.wbuf[:0]
	c.flushing = false
	c.wmu.Unlock()
	if oneway {
		c.release()
		rq.Release()
		call.finish(zero, werr)
	}
	if werr != nil {
		c.fail(werr, false)
	}
}

// expire ends a call whose reply did not come in time; a late reply is
// dropped by the reader.
func (c *conn[R]) expire(id int32) {
	c.mu.Lock()
	pc := c.pending[id]
	delete(c.pending, id)
	idle := c.draining && len(c.pending) == 0
	c.mu.Unlock()
	if pc == nil {
		return
	}
	c.release()
	pc.rq.Release()
	pc.call.Host.Report(cluster.LocalOriginTimeout)
	var zero R
	pc.call.finish(zero, ErrTimeout)
	if idle {
		c.fail(nil, false)
		return
	}
	c.p.mu.Lock()
	c.hc.remove(c)
	c.p.mu.Unlock()
	c.drain()
}

// readLoop delivers replies until the connection ends.
func (c *conn[R]) readLoop() {
	defer c.p.wg.Done()
	next := c.p.read(bufio.NewReaderSize(countReader{c.uc}, c.p.cfg.ReadBuffer))
	for {
		id, reply, err := next()
		if err != nil {
			remote := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)
			c.fail(err, remote)
			return
		}
		c.mu.Lock()
		pc := c.pending[id]
		delete(c.pending, id)
		idle := c.draining && len(c.pending) == 0
		c.mu.Unlock()
		if pc != nil { // nil: the call timed out, its late reply is dropped
			c.release()
			pc.rq.Release()
			pc.call.finish(reply, nil)
		}
		if idle {
			c.fail(nil, false)
			return
		}
	}
}

// drain stops new requests on c and closes it once its replies are in.
func (c *conn[R]) drain() {
	c.mu.Lock()
	c.draining = true
	idle := len(c.pending) == 0
	c.mu.Unlock()
	if idle {
		c.fail(nil, false)
	}
}

// fail closes the connection once and fails its pending calls.
func (c *conn[R]) fail(cause error, remote bool) {
	c.mu.Lock()
	if c.dead {
		c.mu.Unlock()
		return
	}
	c.dead = true
	pend := c.pending
	c.pending = nil
	c.mu.Unlock()

	c.p.mu.Lock()
	c.hc.remove(c)
	c.p.mu.Unlock()
	c.uc.CloseBy(remote)

	err := ErrReset
	if errors.Is(cause, ErrClosed) {
		err = ErrClosed
	}
	var zero R
	for _, pc := range pend {
		c.release()
		pc.rq.Release()
		if err == ErrReset {
			pc.call.Host.Report(cluster.LocalOriginTimeout)
		}
		pc.call.finish(zero, err)
	}
}

// countReader counts received bytes in the cluster's stats.
type countReader struct{ uc *cluster.UpstreamConn }

func (r countReader) Read(p []byte) (int, error) {
	n, err := r.uc.Read(p)
	if n > 0 {
		r.uc.CountBytes(uint64(n), 0)
	}
	return n, err
}
