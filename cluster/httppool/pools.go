package httppool

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"

	"github.com/sluice-proxy/sluice/cluster"
)

// Options are what every pool of a Pools shares.
type Options struct {
	// TLS, when set, makes the pools speak TLS to upstream hosts (h2 by
	// ALPN where the cluster's protocol allows it) with this config. Nil:
	// a cluster's own tls block (its transport socket) applies, else plain
	// text, HTTP/2 as h2c with prior knowledge.
	TLS *tls.Config
	// Log receives connection-level problems; nil discards them.
	Log *slog.Logger
}

// Pools hands out one Pool per cluster of a Manager, made on first use and
// closed when a reload removes its cluster. It is what the server owns and
// passes to HTTP filters.
type Pools struct {
	m    *cluster.Manager
	opts Options

	mu     sync.Mutex
	pools  map[*cluster.Cluster]*Pool
	closed bool
}

// NewPools returns the pools over m's clusters.
func NewPools(m *cluster.Manager, opts Options) *Pools {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	return &Pools{m: m, opts: opts, pools: map[*cluster.Cluster]*Pool{}}
}

// ErrNoCluster is returned by Get for a name the Manager does not have.
var ErrNoCluster = errors.New("no such cluster")

// ErrClosed is returned by a closed pool.
var ErrClosed = errors.New("upstream pool closed")

// Get returns the pool of the named cluster.
func (ps *Pools) Get(name string) (*Pool, error) {
	c := ps.m.Get(name)
	if c == nil {
		return nil, fmt.Errorf("httppool: %w %q", ErrNoCluster, name)
	}
	return ps.For(c)
}

// For returns c's pool, making it on first use.
func (ps *Pools) For(c *cluster.Cluster) (*Pool, error) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.closed {
		return nil, ErrClosed
	}
	if p := ps.pools[c]; p != nil {
		return p, nil
	}
	select {
	case <-c.Retired():
		return nil, fmt.Errorf("httppool: cluster %s: %w", c.Name(), ErrNoCluster)
	default:
	}
	p := newPool(c, ps.opts, func(p *Pool) {
		ps.mu.Lock()
		if ps.pools[c] == p {
			delete(ps.pools, c)
		}
		ps.mu.Unlock()
	})
	ps.pools[c] = p
	return p, nil
}

// Close closes every pool.
func (ps *Pools) Close() error {
	ps.mu.Lock()
	ps.closed = true
	list := make([]*Pool, 0, len(ps.pools))
	for _, p := range ps.pools {
		list = append(list, p)
	}
	ps.mu.Unlock()
	var errs []error
	for _, p := range list {
		errs = append(errs, p.Close())
	}
	return errors.Join(errs...)
}

// hashKey carries a request's load-balancing hash to RoundTrip.
type hashKey struct{}

// WithHash returns ctx carrying h, the hash ring_hash and maglev clusters
// pick a host with (the route's hash_policy result).
func WithHash(ctx context.Context, h uint64) context.Context {
	return context.WithValue(ctx, hashKey{}, h)
}

func hashFrom(ctx context.Context) (uint64, bool) {
	h, ok := ctx.Value(hashKey{}).(uint64)
	return h, ok
}

// hostReportKey carries a callback told which host a request went to.
type hostReportKey struct{}

// WithHostReport returns ctx carrying f, which RoundTrip calls with each
// host it sends the request to (the access log's %UPSTREAM_HOST%).
func WithHostReport(ctx context.Context, f func(*cluster.Host)) context.Context {
	return context.WithValue(ctx, hostReportKey{}, f)
}

// informationalKey carries a callback for 1xx responses.
type informationalKey struct{}

// WithInformational returns ctx carrying f, which the pool's HTTP/1.1
// connections call with each informational (1xx) response before the
// final one (a proxy forwards 103 Early Hints with it); without it they
// use the context's httptrace.ClientTrace.Got1xxResponse, as net/http does.
func WithInformational(ctx context.Context, f func(code int, h http.Header)) context.Context {
	return context.WithValue(ctx, informationalKey{}, f)
}
