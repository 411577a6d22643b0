package httpconn

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/sluice-proxy/sluice/cluster"
	"github.com/sluice-proxy/sluice/router"
)

// tries sends r, and again under the route's retry_policy: a request
// without a body (nothing to replay) is retried after a connect failure or
// reset ("connect-failure", "reset", "5xx", "gateway-error") or a retriable
// status, up to num_retries times, with Envoy's jittered exponential
// back-off, each try within per_try_timeout. Retries count
// upstream_rq_retry (and upstream_rq_retry_success when one succeeds).
func (t routerTransport) tries(up Upstream, r *http.Request, rs *routeState) (*http.Response, error) {
	pol := rs.route.Retry()
	max := uint32(0)
	if pol != nil && (r.Body == nil || r.Body == http.NoBody) && r.Header.Get("Upgrade") == "" {
		max = pol.NumRetries
	}
	for n := uint32(0); ; n++ {
		resp, err := t.try(up, r, pol)
		if n == max || r.Context().Err() != nil || !retriable(pol, r, resp, err) {
			if n > 0 && err == nil && !retriable(pol, r, resp, nil) {
				rs.ups.retrySuccess.Inc()
			}
			return resp, err
		}
		if resp != nil {
			io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		rs.ups.retry.Inc()
		if !backoff(r.Context(), pol, n) {
			return nil, r.Context().Err()
		}
	}
}

// try is one attempt within per_try_timeout, which also covers reading the
// response body (its cancel runs when the body is closed).
func (t routerTransport) try(up Upstream, r *http.Request, pol *router.RetryPolicy) (*http.Response, error) {
	if pol == nil || pol.PerTryTimeout <= 0 {
		return up.RoundTrip(r)
	}
	ctx, cancel := context.WithTimeout(r.Context(), pol.PerTryTimeout)
	resp, err := up.RoundTrip(r.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// retriable applies the policy's retry_on to one attempt's outcome.
func retriable(pol *router.RetryPolicy, r *http.Request, resp *http.Response, err error) bool {
	if pol == nil {
		return false
	}
	if err != nil {
		if errors.Is(err, cluster.ErrNoHealthyHost) || errors.Is(err, cluster.ErrOverflow) {
			return false
		}
		// The pool does not tell a connect failure from a reset: either
		// condition retries both.
		return pol.On("connect-failure") || pol.On("reset") || pol.On("5xx") || pol.On("gateway-error") ||
			(errors.Is(err, context.DeadlineExceeded) && r.Context().Err() == nil) // a per-try timeout
	}
	return pol.RetriableStatus(resp.StatusCode)
}

// backoff waits Envoy's jittered exponential back-off before retry n+1:
// a random time up to base*(2^(n+1)-1), at most max_interval.
func backoff(ctx context.Context, pol *router.RetryPolicy, n uint32) bool {
	base := pol.BaseInterval
	if base <= 0 {
		base = 25 * time.Millisecond
	}
	maxI := pol.MaxInterval
	if maxI <= 0 {
		maxI = 10 * base
	}
	d := base * time.Duration((uint64(1)<<min(n+1, 30))-1)
	d = min(d, maxI)
	d = time.Duration(rand.Int64N(int64(d) + 1))
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-ctx.Done():
		return false
	}
}
