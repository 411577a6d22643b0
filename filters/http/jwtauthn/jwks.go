package jwtauthn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/sluice-proxy/sluice/cluster"
	"github.com/sluice-proxy/sluice/stats"
)

// maxJWKS bounds a fetched key set: a JWKS server answering garbage or an
// endless body costs at most this much memory.
const maxJWKS = 1 << 20

// defaultCache is Envoy's remote_jwks cache_duration default (5 minutes).
const defaultCache = 5 * time.Minute

// keySource hands out a provider's parsed keys. Keys are parsed once, when
// loaded or fetched, never per request.
type keySource interface {
	keys(ctx context.Context) (*jose.JSONWebKeySet, error)
}

type staticKeys struct{ set *jose.JSONWebKeySet }

func (s staticKeys) keys(context.Context) (*jose.JSONWebKeySet, error) { return s.set, nil }

func parseJWKS(b []byte) (*jose.JSONWebKeySet, error) {
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	if len(set.Keys) == 0 {
		return nil, errors.New("jwks: no keys")
	}
	return &set, nil
}

func loadLocal(d *DataSource) (keySource, error) {
	b := []byte(d.InlineString)
	if d.Filename != "" {
		var err error
		if b, err = os.ReadFile(d.Filename); err != nil {
			return nil, err
		}
	}
	set, err := parseJWKS(b)
	if err != nil {
		return nil, err
	}
	return staticKeys{set}, nil
}

// remoteKeys fetches a JWKS over HTTP and keeps it for cache_duration.
// One fetch runs at a time; requests waiting for it give up at their own
// deadline (the fetch timeout), so a hanging server never holds a request
// longer than http_uri.timeout.
type remoteKeys struct {
	uri     string
	timeout time.Duration
	ttl     time.Duration
	retries int
	async   bool
	client  *http.Client
	ok, bad *stats.Counter

	mu       sync.Mutex
	set      *jose.JSONWebKeySet
	expires  time.Time
	inflight chan struct{} // closed when the running fetch ends
	lastErr  error
}

func newRemote(r *RemoteJWKS, clusters *cluster.Manager, ok, bad *stats.Counter) *remoteKeys {
	ttl := defaultCache
	if r.CacheDuration != nil {
		ttl = time.Duration(*r.CacheDuration)
	}
	rk := &remoteKeys{uri: r.HTTPURI.URI, timeout: time.Duration(r.HTTPURI.Timeout), ttl: ttl,
		async: r.AsyncFetch != nil, client: &http.Client{Transport: transport(clusters, r.HTTPURI.Cluster)}, ok: ok, bad: bad}
	if r.RetryPolicy != nil {
		rk.retries = int(r.RetryPolicy.NumRetries)
	}
	return rk
}

// keys returns the cached set, fetching when it is missing or stale; with
// async_fetch a stale set is served while the refresh runs.
func (r *remoteKeys) keys(ctx context.Context) (*jose.JSONWebKeySet, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	r.mu.Lock()
	if r.set != nil && time.Now().Before(r.expires) {
		set := r.set
		r.mu.Unlock()
		return set, nil
	}
	done := r.startLocked()
	if r.async && r.set != nil {
		set := r.set
		r.mu.Unlock()
		return set, nil
	}
	r.mu.Unlock()
	select {
	case <-done:
	case <-ctx.Done():
		return nil, errors.New("jwks fetch timed out")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.set == nil || (!r.async && !time.Now().Before(r.expires)) {
		return nil, r.lastErr
	}
	return r.set, nil
}

// startLocked starts a fetch unless one runs; r.mu is held.
func (r *remoteKeys) startLocked() chan struct{} {
	if r.inflight != nil {
		return r.inflight
	}
	done := make(chan struct{})
	r.inflight = done
	go r.fetch(done)
	return done
}

// fetch runs detached from any one request (so one client going away does
// not fail the others waiting), bounded by the timeout per attempt.
func (r *remoteKeys) fetch(done chan struct{}) {
	var set *jose.JSONWebKeySet
	var err error
	for attempt := 0; attempt <= r.retries; attempt++ {
		if set, err = r.fetchOnce(); err == nil {
			break
		}
	}
	r.mu.Lock()
	if err == nil {
		r.ok.Inc()
		r.set, r.expires, r.lastErr = set, time.Now().Add(r.ttl), nil
	} else {
		r.bad.Inc()
		r.lastErr = err
	}
	r.inflight = nil
	r.mu.Unlock()
	close(done)
}

// transport connects through the named cluster (its hosts, breakers and
// upstream_cx stats), as Envoy does; when the cluster is not configured it
// dials the URI's host itself. Keep-alive is off: fetches are rare, and no
// idle connection outlives the filter.
func transport(clusters *cluster.Manager, name string) *http.Transport {
	t := &http.Transport{DisableKeepAlives: true, ForceAttemptHTTP2: false}
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if clusters != nil {
			if c := clusters.Get(name); c != nil {
				return c.Connect(ctx, 0, false)
			}
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	return t
}

func (r *remoteKeys) fetchOnce() (*jose.JSONWebKeySet, error) {
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.uri, nil)
	if err != nil {
		return nil, err
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("jwks fetch: status %d", resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKS+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxJWKS {
		return nil, errors.New("jwks fetch: body over 1 MiB")
	}
	return parseJWKS(b)
}
