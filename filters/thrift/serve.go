package thrift

import (
	"bufio"
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluice-proxy/sluice/cluster/muxpool"
	codec "github.com/sluice-proxy/sluice/codec/thrift"
	"github.com/sluice-proxy/sluice/filters"
)

// inflight is one call of a client.
type inflight struct {
	m     *codec.Message
	start time.Time
	// call is the upstream request; nil when answered locally.
	call *muxpool.Call[*codec.Message]
	cs   *ClusterStats
	// local is a ready answer (a local exception), written as it is.
	local []byte
	// out is the answer to write; none for oneway calls.
	out   []byte
	write bool
	// closeAfter closes the client's connection once the answer is written.
	closeAfter bool
}

// downstream is one client connection. Answers are written as they
// complete, whatever the order of the calls (Thrift matches them by
// sequence id, and Envoy answers in completion order too): a call that
// never gets a reply (the Go library sends oneway calls as calls) does not
// hold back the next ones.
type downstream struct {
	p *Proxy
	s *filters.Session
	c filters.Conn
	// sem bounds the calls in flight (max_pending_per_client); ready holds
	// completed answers, and has room for every call in flight, so a
	// completing call never blocks the upstream reader that completes it.
	sem   chan struct{}
	ready chan *inflight
	stop  chan struct{}

	// rx and tx count the bytes of calls read and answers written, for the
	// access log.
	rx, tx atomic.Int64
	// closed is set when the writer closed the connection after a local
	// answer (close_downstream_on_upstream_error) or a failed write.
	closed atomic.Bool

	mu       sync.Mutex
	active   int
	held     int // bytes of calls in flight and answers not yet written
	room     *sync.Cond
	draining bool
	drained  chan struct{}
}

// Serve decodes calls and forwards them until the client leaves, sends bad
// input, or reaches max_requests_per_connection.
func (p *Proxy) Serve(ctx context.Context, s *filters.Session, c filters.Conn) {
	if s.Log == nil { // a Session built by hand (tests, benchmarks)
		s.Log = p.log
	}
	n := max(p.cfg.MaxPendingPerClient, 1)
	d := &downstream{p: p, s: s, c: c, sem: make(chan struct{}, n), ready: make(chan *inflight, n),
		stop: make(chan struct{}), drained: make(chan struct{})}
	d.room = sync.NewCond(&d.mu)
	s.SetBufferedBytes(func() int64 {
		d.mu.Lock()
		defer d.mu.Unlock()
		return int64(d.held)
	})
	wdone := make(chan struct{})
	s.Go(func() {
		defer close(wdone)
		d.writeLoop()
	})
	reason := d.readLoop(ctx)
	switch reason {
	case "max_requests_per_connection", "local_reply_close":
		d.drain(ctx) // answer what was asked, then close
	case "downstream_close":
		if d.activeCount() > 0 {
			p.stats.CxDestroyRemoteActiveRq.Inc()
		}
	default:
		if d.activeCount() > 0 {
			p.stats.CxDestroyLocalActiveRq.Inc()
		}
	}
	if reason != "max_requests_per_connection" && reason != "local_reply_close" {
		c.Close() // unblock a writer stuck on a client that does not read
	}
	close(d.stop)
	<-wdone
	c.Close()
	s.UpdateAccess(func(a *filters.AccessRecord) {
		a.BytesReceived = uint64(d.rx.Load())
		a.BytesSent = uint64(d.tx.Load())
		if a.TerminationReason == "" {
			a.TerminationReason = reason
		}
	})
}

// readLoop reads and dispatches calls; it returns why it stopped.
func (d *downstream) readLoop(ctx context.Context) string {
	p := d.p
	dec := codec.NewDecoder(bufio.NewReaderSize(d.c, 16<<10), p.transport, p.protocol, p.limit)
	n := uint32(0)
	for {
		m, err := dec.Next()
		if err != nil {
			if d.closed.Load() {
				return "upstream_error"
			}
			if errors.Is(err, io.EOF) {
				return "downstream_close"
			}
			return p.decodeError(d.s, err)
		}
		d.rx.Add(int64(m.Size))
		if m.Type == codec.Reply || m.Type == codec.Exception {
			p.stats.Request.Inc()
			p.stats.RequestInvalidType.Inc()
			d.s.Log.Warn("thrift_proxy: closing connection: client sent a reply", "method", m.Name)
			return "downstream_error"
		}
		select {
		case d.sem <- struct{}{}:
		case <-ctx.Done():
			return "drain"
		}
		d.mu.Lock()
		// Memory: calls in flight and answers not yet written stay within
		// the buffer limit (one call alone may reach it).
		for d.active > 0 && d.held+m.Size > p.limit {
			d.room.Wait()
		}
		d.held += m.Size
		d.active++
		d.mu.Unlock()
		closeAfter := p.handle(ctx, d.s, m, d.complete)
		n++
		if closeAfter {
			return "local_reply_close"
		}
		if max := p.cfg.MaxRequestsPerConnection; max > 0 && n >= max {
			p.stats.DownstreamCxMaxRequests.Inc()
			return "max_requests_per_connection"
		}
	}
}

// complete accounts for a finished call and queues its answer; it runs on
// the goroutine that completed the call and never blocks.
func (d *downstream) complete(it *inflight) {
	it.out, it.write = d.p.answer(d.s, it)
	d.mu.Lock()
	d.held += len(it.out)
	d.mu.Unlock()
	d.ready <- it
}

// writeLoop writes answers as they complete. A failed write closes the
// connection (the reader then ends). Once stopped it writes what is ready
// and returns.
func (d *downstream) writeLoop() {
	bw := bufio.NewWriterSize(d.c, 16<<10)
	var werr error
	write := func(it *inflight) {
		<-d.sem
		d.done(it.m.Size + len(it.out)) // answered: it no longer counts as active
		if it.write && werr == nil {
			d.tx.Add(int64(len(it.out)))
			if _, werr = bw.Write(it.out); werr == nil && (len(d.ready) == 0 || it.closeAfter) {
				werr = bw.Flush()
			}
			if werr != nil {
				d.closed.Store(true)
				d.c.Close()
			}
		}
		if it.closeAfter {
			d.closed.Store(true)
			d.c.Close()
		}
	}
	for {
		select {
		case it := <-d.ready:
			write(it)
		case <-d.stop:
			for {
				select {
				case it := <-d.ready:
					write(it)
				default:
					if werr == nil {
						bw.Flush()
					}
					return
				}
			}
		}
	}
}

func (d *downstream) activeCount() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.active
}

// done counts one answer written and the bytes it no longer holds.
func (d *downstream) done(bytes int) {
	d.mu.Lock()
	d.held -= bytes
	d.room.Broadcast()
	d.active--
	if d.draining && d.active == 0 {
		close(d.drained)
	}
	d.mu.Unlock()
}

// drain waits until every call in flight is answered (or ctx ends).
func (d *downstream) drain(ctx context.Context) {
	d.mu.Lock()
	d.draining = true
	if d.active == 0 {
		close(d.drained)
	}
	d.mu.Unlock()
	select {
	case <-d.drained:
	case <-ctx.Done():
	}
}

// decodeError counts and logs bad input from the client; the connection
// closes.
func (p *Proxy) decodeError(s *filters.Session, err error) string {
	p.stats.RequestDecodingError.Inc()
	if errors.Is(err, io.ErrUnexpectedEOF) {
		s.Log.Debug("thrift_proxy: client closed inside a message", "err", err)
		return "downstream_close"
	}
	if errors.Is(err, codec.ErrTooLarge) {
		p.stats.RequestTooLarge.Inc()
	}
	s.Log.Warn("thrift_proxy: closing connection on bad request", "err", err)
	return "downstream_error"
}
