package httppool

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluice-proxy/sluice/cluster"
	"github.com/sluice-proxy/sluice/config"
)

// Pool is one cluster's upstream HTTP connections. RoundTrip is safe for
// concurrent use; the pool is shared by the whole process.
type Pool struct {
	c      *cluster.Cluster
	opts   Options
	log    *slog.Logger
	st     *poolStats
	set    atomic.Pointer[settings]
	ctx    context.Context // canceled by Close: ends dials
	cancel context.CancelFunc
	onDone func(*Pool)
	unsub  func()

	tr [numKinds]*http.Transport

	mu     sync.Mutex
	hosts  map[hostKey]*hostPool
	closed bool
	wg     sync.WaitGroup // the reaper and dials
	once   sync.Once
}

// settings are the pool's view of the cluster's config.
type settings struct {
	cfg      *config.Cluster
	proto    config.UpstreamProtocol
	idle     time.Duration // 0: none
	maxDur   time.Duration // 0: none
	maxReq   uint32        // 0: unlimited
	share    int           // HTTP/2 streams a connection carries before another opens
	hard     int           // HTTP/2 streams per connection at most (math.MaxInt: the server's limit)
	minConns int           // HTTP/2 connections kept per host
	maxConns int           // HTTP/2 connections per host at most
	// preconnect is per_upstream_preconnect_ratio: HTTP/2 capacity kept
	// per outstanding stream.
	preconnect float64
	sni        *config.UpstreamHTTPSNI // upstream_http_protocol_options; nil: none
}

func newSettings(cfg *config.Cluster) *settings {
	proto, h2, common := cfg.UpstreamHTTP()
	s := &settings{
		cfg: cfg, proto: proto, idle: common.IdleTimeout.D(), maxDur: common.MaxConnectionDuration.D(),
		maxReq: common.MaxRequestsPerConnection, share: int(cfg.HTTPPool.TargetStreamsPerConnection), hard: math.MaxInt,
		minConns: int(cfg.HTTPPool.MinConnectionsPerHost), maxConns: int(cfg.HTTPPool.MaxConnectionsPerHost),
		preconnect: cfg.PreconnectRatio(),
	}
	if o := cfg.TypedExtensionProtocolOptions; o != nil && o.HTTP != nil {
		if u := o.HTTP.UpstreamHTTPProtocolOptions; u != nil && u.AutoSNI {
			s.sni = u
		}
	}
	if n := h2.MaxConcurrentStreams; n > 0 {
		s.share, s.hard = int(n), int(n)
	}
	return s
}

func newPool(c *cluster.Cluster, opts Options, onDone func(*Pool)) *Pool {
	p := &Pool{c: c, opts: opts, log: opts.Log.With("cluster", c.Name()), st: newPoolStats(c.Stats().Scope),
		onDone: onDone, hosts: map[hostKey]*hostPool{}}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	s := newSettings(c.Config())
	p.set.Store(s)
	for k := range p.tr {
		p.tr[k] = p.transport(kind(k), s)
	}
	p.unsub = c.Subscribe(p.hostEvent)
	p.wg.Add(1)
	go p.reap()
	return p
}

// settings returns the settings of the cluster's current config.
func (p *Pool) settings() *settings {
	s := p.set.Load()
	if cfg := p.c.Config(); cfg != s.cfg {
		s = newSettings(cfg)
		p.set.Store(s)
	}
	return s
}

// maxAttempts bounds how often one request is sent again after the
// server refused it unprocessed.
const maxAttempts = 3

// maxStale bounds the idle connections found closed (and dropped) for one
// request before a fresh one is dialed.
const maxStale = 64

// RoundTrip sends req to a host of the cluster and returns its response; the
// response body must be closed. It satisfies http.RoundTripper.
func (p *Pool) RoundTrip(req *http.Request) (*http.Response, error) {
	s := p.settings()
	rqs := &p.c.Breakers(cluster.PriorityDefault).Requests
	if !rqs.TryAcquire() {
		return nil, fmt.Errorf("cluster %s: %w (max_requests %d)", p.c.Name(), cluster.ErrOverflow, rqs.Max())
	}
	ctx := req.Context()
	hash, hasHash := hashFrom(ctx)
	body := trackBody(req)
	end := func(err error) (*http.Response, error) {
		rqs.Release()
		if body != nil {
			body.finish()
		}
		return nil, err
	}
	start := time.Now()
	var lastErr error
	stale := 0
	for attempt := 0; attempt < maxAttempts; attempt++ {
		h := p.pick(ctx, hash, hasHash) // hostfilter.go
		if h == nil {
			p.c.Stats().CxNoneHealthy.Inc()
			return end(fmt.Errorf("cluster %s: %w", p.c.Name(), cluster.ErrNoHealthyHost))
		}
		if report, ok := ctx.Value(hostReportKey{}).(func(*cluster.Host)); ok {
			report(h)
		}
		k := kindOf(s, req, p.withTLS())
		hp, err := p.hostPool(h, k, s.sniFor(req, k))
		if err != nil {
			return end(err)
		}
		c, err := hp.acquire(ctx, s)
		if err != nil {
			if errors.Is(err, errHostGone) && ctx.Err() == nil {
				lastErr = err
				continue
			}
			return end(p.failed(err, ctx, nil))
		}
		h.BeginRequest()
		sent := time.Now()
		reused := !c.h2 && c.requests > 1 // an HTTP/1.1 connection is held alone
		var resp *http.Response
		if hc, ok := c.cc.(*h1Conn); ok {
			resp, err = hc.send(req, body.readCloser()) // no outgoing copy: it writes the request line itself
		} else {
			resp, err = c.cc.RoundTrip(outgoing(req, h, c, body))
		}
		if err != nil {
			hp.release(c, 0)
			if err == errStale && stale < maxStale {
				unsent(h)
				stale++
				attempt-- // nothing was sent
				continue
			}
			if (retryable(err) || reused && idleRace(err, req, body)) && (body == nil || !body.read.Load()) && ctx.Err() == nil {
				unsent(h)
				lastErr = err
				continue
			}
			return end(p.failed(err, ctx, h))
		}
		p.st.response(resp.StatusCode)
		p.finishWith(resp, func(err error) {
			took := time.Duration(0) // failures say nothing of the server's pace
			if err == nil {
				took = time.Since(sent)
			}
			hp.release(c, took)
			rqs.Release()
			if body != nil {
				body.finish()
			}
			p.st.rqTime.Record(float64(time.Since(start).Microseconds()) / 1000)
			switch {
			case err == nil:
				p.st.completed.Inc()
				h.EndRequest(resp.StatusCode < 500)
			case errors.Is(err, errClosedEarly):
				p.st.completed.Inc()
				p.st.txReset.Inc()
				unsent(h)
			default:
				p.failed(err, ctx, h)
			}
		})
		return resp, nil
	}
	return end(fmt.Errorf("cluster %s: %d attempts: %w", p.c.Name(), maxAttempts, lastErr))
}

// failed counts a request that got no (whole) response and tells outlier
// detection when the host is to blame; h is nil when nothing was sent.
func (p *Pool) failed(err error, ctx context.Context, h *cluster.Host) error {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		p.st.timeout.Inc()
		if h != nil {
			h.EndRequestLocal()
		}
	case ctx.Err() != nil:
		if h != nil {
			p.st.txReset.Inc()
			unsent(h)
		}
	case h != nil:
		p.st.rxReset.Inc()
		h.EndRequestLocal()
	}
	return err
}

// unsent ends a request begun on h that says nothing of h's health.
func unsent(h *cluster.Host) {
	h.RqActive.Add(-1)
	h.Cluster().Stats().RqActive.Dec()
}

// hostEvent closes connections to hosts that left or turned unhealthy. It
// runs on the goroutine that changed the host and must not block.
func (p *Pool) hostEvent(ev cluster.HostEvent) {
	if ev.Kind == cluster.HostHealthy {
		return
	}
	p.mu.Lock()
	var hps []*hostPool
	for k, hp := range p.hosts {
		if k.h == ev.Host {
			hps = append(hps, hp)
			if ev.Kind == cluster.HostRemoved {
				delete(p.hosts, k)
			}
		}
	}
	p.mu.Unlock()
	for _, hp := range hps {
		hp.retireAll(ev.Kind == cluster.HostRemoved, false)
	}
}

// Close closes every connection, fails waiting requests and stops the
// pool's goroutines. Requests in flight are cut.
func (p *Pool) Close() error {
	p.once.Do(func() {
		p.unsub()
		p.cancel()
		p.mu.Lock()
		p.closed = true
		hosts := p.hosts
		p.hosts = map[hostKey]*hostPool{}
		p.mu.Unlock()
		for _, hp := range hosts {
			hp.retireAll(true, true)
		}
		p.wg.Wait()
		for _, t := range p.tr {
			t.CloseIdleConnections()
		}
		p.onDone(p)
	})
	return nil
}

// hostPool returns the connections to h of kind k, made on first use.
func (p *Pool) hostPool(h *cluster.Host, k kind, sni string) (*hostPool, error) {
	key := hostKey{h, k, sni}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, ErrClosed
	}
	hp := p.hosts[key]
	if hp == nil {
		hp = &hostPool{p: p, h: h, kind: k, sni: sni, changed: make(chan struct{})}
		p.hosts[key] = hp
	}
	return hp, nil
}

// reap closes idle and expired connections, keeps the HTTP/2 minimum open
// and closes the pool when its cluster is retired.
func (p *Pool) reap() {
	defer p.wg.Done()
	tick := func() time.Duration {
		s := p.settings()
		// A sweep notices GOAWAYs for the requests waiting (net/http
		// raises no event for them), so it runs at least 4 times a second.
		d := 250 * time.Millisecond
		if s.idle > 0 {
			d = min(d, max(s.idle/4, 10*time.Millisecond))
		}
		return d
	}
	t := time.NewTimer(tick())
	defer t.Stop()
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-p.c.Retired():
			go p.Close() // Close waits for this goroutine
			return
		case <-t.C:
		}
		s := p.settings()
		p.mu.Lock()
		list := make([]*hostPool, 0, len(p.hosts))
		for _, hp := range p.hosts {
			list = append(list, hp)
		}
		p.mu.Unlock()
		now := time.Now()
		for _, hp := range list {
			if !s.uses(hp.kind, p.withTLS()) {
				// A reload changed the cluster's protocol: connections of
				// the old kind drain and their host pool goes.
				p.mu.Lock()
				delete(p.hosts, hostKey{hp.h, hp.kind, hp.sni})
				p.mu.Unlock()
				hp.retireAll(true, false)
				continue
			}
			hp.sweep(s, now)
		}
		t.Reset(tick())
	}
}
