package muxpool

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/sluice-proxy/sluice/cluster"
	"github.com/sluice-proxy/sluice/internal/guard"
)

// Errors a Call can end with, besides a connect error from the cluster.
var (
	// ErrTimeout: no reply within the request's timeout.
	ErrTimeout = errors.New("muxpool: upstream request timeout")
	// ErrReset: the upstream connection ended before the reply.
	ErrReset = errors.New("muxpool: upstream connection reset")
	// ErrClosed: the pool was closed.
	ErrClosed = errors.New("muxpool: pool closed")
)

// ReadFunc makes the reply reader of one upstream connection (it may keep
// per-connection state, such as a detected protocol). The reader returns
// each reply with the id it carries; an error ends the connection (its
// requests fail with ErrReset).
type ReadFunc[R any] func(r *bufio.Reader) func() (id int32, reply R, err error)

// EncodeFunc appends a request carrying id to dst.
type EncodeFunc func(dst []byte, id int32) ([]byte, error)

// Config sizes a pool.
type Config struct {
	// MaxConnsPerHost bounds the connections to one host; 0 leaves the
	// bound to the cluster's max_connections breaker.
	MaxConnsPerHost int
	// MaxPerConn is how many requests in flight a connection takes before
	// another is opened (while under MaxConnsPerHost). Default 1: most
	// Thrift servers (the libraries' simple and threaded servers) answer
	// the requests of one connection one after the other, so requests
	// sharing a connection wait for each other; raise it for servers that
	// work on a connection's requests concurrently.
	MaxPerConn int
	// ReadBuffer is the reader's buffer size. Default 16 KiB.
	ReadBuffer int
}

func (c *Config) defaults() {
	if c.MaxConnsPerHost <= 0 {
		c.MaxConnsPerHost = math.MaxInt32
	}
	if c.MaxPerConn <= 0 {
		c.MaxPerConn = 1
	}
	if c.ReadBuffer <= 0 {
		c.ReadBuffer = 16 << 10
	}
}

// Pool multiplexes requests over connections to the hosts of one cluster.
// Safe for concurrent use.
type Pool[R any] struct {
	c     *cluster.Cluster
	read  ReadFunc[R]
	cfg   Config
	guard *guard.Guard
	unsub func()

	mu     sync.Mutex
	hosts  map[*cluster.Host]*hostConns[R]
	closed bool
	wg     sync.WaitGroup
}

// hostConns are one host's live connections plus those being dialed.
type hostConns[R any] struct {
	conns   []*conn[R]
	dialing int
	// dialed is closed (and replaced) whenever a dial ends.
	dialed chan struct{}
}

// New makes a pool for c; g contains panics of its reader goroutines.
func New[R any](c *cluster.Cluster, read ReadFunc[R], cfg Config, g *guard.Guard) *Pool[R] {
	cfg.defaults()
	p := &Pool[R]{c: c, read: read, cfg: cfg, guard: g, hosts: map[*cluster.Host]*hostConns[R]{}}
	p.unsub = c.Subscribe(p.onHostEvent)
	return p
}

// Call is one request in flight. Done is closed when Reply or Err is set.
type Call[R any] struct {
	Done  chan struct{}
	Reply R
	Err   error
	// Host is the host the request went to (nil when none was reached).
	Host *cluster.Host
	// Sent is the request's size on the wire.
	Sent   int
	timer  *time.Timer
	onDone func(*Call[R])
}

func (c *Call[R]) finish(r R, err error) {
	if c.timer != nil {
		c.timer.Stop()
	}
	c.Reply, c.Err = r, err
	close(c.Done)
	if c.onDone != nil {
		c.onDone(c)
	}
}

// Send sends a request to host h. With oneway it completes as soon as the
// request is written; otherwise when the reply comes, the connection ends,
// or timeout passes (0: no timeout). It may dial, bounded by the cluster's
// connect_timeout. The returned Call is always completed exactly once;
// onDone, if set, runs then, on whichever goroutine completed it (the
// connection's reader, a timer, or this one): it must not block.
func (p *Pool[R]) Send(ctx context.Context, h *cluster.Host, enc EncodeFunc, oneway bool, timeout time.Duration, onDone func(*Call[R])) *Call[R] {
	call := &Call[R]{Done: make(chan struct{}), Host: h, onDone: onDone}
	rq := &p.c.Breakers(cluster.PriorityDefault).Requests
	if !rq.TryAcquire() {
		var zero R
		call.finish(zero, fmt.Errorf("cluster %s: %w (max_requests %d)", p.c.Name(), cluster.ErrOverflow, rq.Max()))
		return call
	}
	cn, err := p.get(ctx, h)
	if err != nil {
		rq.Release()
		var zero R
		call.finish(zero, err)
		return call
	}
	cn.send(call, enc, oneway, timeout, rq)
	return call
}

// get returns a connection to h with room, dialing one when needed. When
// the host's connections are all being dialed, it waits for one of them.
func (p *Pool[R]) get(ctx context.Context, h *cluster.Host) (*conn[R], error) {
	p.mu.Lock()
	for {
		if p.closed {
			p.mu.Unlock()
			return nil, ErrClosed
		}
		hc := p.hosts[h]
		if hc == nil {
			hc = &hostConns[R]{dialed: make(chan struct{})}
			p.hosts[h] = hc
		}
		best := hc.leastLoaded()
		full := len(hc.conns)+hc.dialing >= p.cfg.MaxConnsPerHost
		if best != nil && (best.load() < p.cfg.MaxPerConn || full) {
			best.inflight.Add(1)
			p.mu.Unlock()
			return best, nil
		}
		if !full {
			return p.dial(ctx, h, hc) // unlocks
		}
		wait := hc.dialed // every connection is being dialed: wait for one
		p.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		p.mu.Lock()
	}
}

// dial opens a connection to h; the caller holds p.mu, which dial releases.
func (p *Pool[R]) dial(ctx context.Context, h *cluster.Host, hc *hostConns[R]) (*conn[R], error) {
	hc.dialing++
	p.mu.Unlock()

	uc, err := p.c.Dial(ctx, h)

	p.mu.Lock()
	defer p.mu.Unlock()
	hc.dialing--
	close(hc.dialed) // wake waiters: they retry, and dial themselves on failure
	hc.dialed = make(chan struct{})
	if err != nil {
		return nil, err
	}
	if p.closed {
		uc.Close()
		return nil, ErrClosed
	}
	cn := newConn(p, hc, uc)
	cn.inflight.Add(1)
	hc.conns = append(hc.conns, cn)
	p.wg.Add(1)
	p.guard.Go("muxpool upstream reader", func(pe *guard.PanicError) { cn.fail(pe, false) }, cn.readLoop, "host", h.Address())
	return cn, nil
}

// leastLoaded is the live connection with the fewest requests in flight.
func (hc *hostConns[R]) leastLoaded() *conn[R] {
	var best *conn[R]
	bl := 0
	for _, c := range hc.conns {
		if l := c.load(); best == nil || l < bl {
			best, bl = c, l
		}
	}
	return best
}

// remove drops c from the host's list (the caller holds p.mu).
func (hc *hostConns[R]) remove(c *conn[R]) {
	for i, x := range hc.conns {
		if x == c {
			hc.conns = append(hc.conns[:i], hc.conns[i+1:]...)
			return
		}
	}
}

// onHostEvent drains the connections of a host that went unhealthy or left.
func (p *Pool[R]) onHostEvent(ev cluster.HostEvent) {
	if ev.Kind == cluster.HostHealthy {
		return
	}
	p.mu.Lock()
	hc := p.hosts[ev.Host]
	delete(p.hosts, ev.Host)
	var conns []*conn[R]
	if hc != nil {
		conns = append(conns, hc.conns...)
		hc.conns = nil
	}
	p.mu.Unlock()
	for _, c := range conns {
		c.drain()
	}
}

// Close ends every connection (their requests fail with ErrClosed) and
// waits for the readers. Safe to call more than once.
func (p *Pool[R]) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	var conns []*conn[R]
	for _, hc := range p.hosts {
		conns = append(conns, hc.conns...)
	}
	p.hosts = map[*cluster.Host]*hostConns[R]{}
	p.mu.Unlock()
	p.unsub()
	for _, c := range conns {
		c.fail(ErrClosed, false)
	}
	p.wg.Wait()
	return nil
}

// Conns is the number of open upstream connections (for tests and stats).
func (p *Pool[R]) Conns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, hc := range p.hosts {
		n += len(hc.conns)
	}
	return n
}
