package httpconn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-proxy/sluice/cluster"
	"github.com/sluice-proxy/sluice/router"
	"github.com/sluice-proxy/sluice/stats"
)

// tries sends r, and again under the route's retry_policy merged with the
// request's x-envoy-retry-* headers (Envoy's RetryStateImpl): up to
// num_retries retries after a retriable response head or failure, each
// after Envoy's jittered exponential back-off and within per_try_timeout,
// each holding one unit of the cluster's retry breaker (max_retries or the
// retry budget). A request body is replayed from a buffer of at most the
// route's per_request_buffer_limit_bytes (else the listener's
// per_connection_buffer_limit_bytes); a body that grew past it is not
// retried (retry_or_shadow_abandoned). Judging happens on the response
// head only, so this works over any Upstream however it speaks HTTP.
func (t routerTransport) tries(up Upstream, r *http.Request, rs *routeState) (*http.Response, error) {
	pol := rs.route.Retry().WithRequestHeaders(r.Header)
	attemptReq, attemptResp := rs.route.AttemptCount()
	maxR := uint32(0)
	var rp *replay
	abandoned := false // retry_or_shadow_abandoned counted for this request
	limit := t.m.bufLimit
	if l, ok := rs.route.BufferLimit(); ok {
		limit = l
	}
	if pol != nil && !isUpgrade(r) {
		maxR = pol.NumRetries
		if maxR > 0 && r.Body != nil && r.Body != http.NoBody {
			if r.ContentLength > limit {
				maxR = 0 // known in advance: nothing to keep
				t.m.feat.retryOrShadowAbandoned.Inc()
				abandoned = true
			} else {
				rp = newReplay(r.Body, limit, r.ContentLength)
			}
		}
	}
	if !isUpgrade(r) {
		rp = t.mirrors(r, rs, rp, limit, abandoned)
	}
	br := rs.cl.Breakers(cluster.PriorityDefault)
	holding := false
	defer func() {
		if holding {
			br.Retries.Release()
		}
		if rp != nil {
			rp.finish()
		}
	}()
	lastTimeout := false // the last try ended by per_try_timeout
	for n := uint32(0); ; n++ {
		req := r
		if rp != nil {
			req = r.Clone(r.Context()) // the header map too: each attempt's own
			req.Body = rp.view()
			req.GetBody = func() (io.ReadCloser, error) { // the pool's own resend
				if !rp.replayable() {
					return nil, errReplayLost
				}
				return rp.view(), nil
			}
		}
		if attemptReq {
			req.Header.Set("X-Envoy-Attempt-Count", strconv.FormatUint(uint64(n)+1, 10))
		}
		if n > 0 && rs.route.TimeoutRetryHeader() {
			req.Header.Set("X-Envoy-Is-Timeout-Retry", strconv.FormatBool(lastTimeout))
		}
		resp, err := t.try(up, req, pol, rs)
		lastTimeout = err != nil && errors.Is(err, context.DeadlineExceeded) && r.Context().Err() == nil
		if holding {
			br.Retries.Release() // Envoy: the retry is over when its outcome is known
			holding = false
		}
		retry := r.Context().Err() == nil && wouldRetry(pol, r, resp, err)
		retriable := retry // the outcome's judgment, before the limits below
		if retry && n == maxR && maxR > 0 {
			rs.ups.retryLimitExceeded.Inc()
			rs.vc.inc(func(v *vcStats) *stats.Counter { return v.retryLimit })
		}
		if retry && err == nil && n < maxR && rp != nil && !rp.complete() {
			// Envoy's rule: an answer that came before the whole request
			// is not retried (the upstream may act on the part it read;
			// and a streaming client may be waiting for this answer).
			t.m.feat.skippedNotComplete.Inc()
			retry = false
		}
		if retry && n < maxR && rp != nil && !rp.replayable() {
			t.m.feat.retryOrShadowAbandoned.Inc()
			retry = false
		}
		overflow := retry && n < maxR && !br.TryRetry()
		if overflow {
			rs.vc.inc(func(v *vcStats) *stats.Counter { return v.retryOver })
		}
		if !retry || n == maxR || overflow {
			if n > 0 && !retriable {
				rs.ups.retrySuccess.Inc()
				rs.vc.inc(func(v *vcStats) *stats.Counter { return v.retrySuccess })
			}
			if attemptResp && resp != nil {
				resp.Header.Set("X-Envoy-Attempt-Count", strconv.FormatUint(uint64(n)+1, 10))
			}
			return resp, err
		}
		holding = true
		if resp != nil {
			// A small body of known length is read to keep the connection;
			// any other is dropped with its stream (Envoy resets it): a
			// stalled body must not hold the retry back.
			if resp.ContentLength >= 0 && resp.ContentLength <= 4<<10 {
				io.Copy(io.Discard, resp.Body)
			}
			resp.Body.Close()
		}
		rs.ups.retry.Inc()
		rs.ups.retryBackoff.Inc()
		rs.vc.inc(func(v *vcStats) *stats.Counter { return v.retry })
		if !backoff(r.Context(), pol, n) {
			return nil, r.Context().Err()
		}
	}
}

// try is one attempt within per_try_timeout and per_try_idle_timeout,
// which also cover reading the response body (they end when the body is
// closed). rs.sending is the request handed to the Upstream
// (auto_host_rewrite changes its Host when the host is picked).
func (t routerTransport) try(up Upstream, r *http.Request, pol *router.RetryPolicy, rs *routeState) (*http.Response, error) {
	if pol == nil || (pol.PerTryTimeout <= 0 && pol.PerTryIdleTimeout <= 0) {
		rs.sending = r
		return up.RoundTrip(r)
	}
	ctx := r.Context()
	var stops []func()
	if pol.PerTryTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, pol.PerTryTimeout)
		stops = append(stops, cancel)
	}
	var idle *streamIdle
	if pol.PerTryIdleTimeout > 0 {
		ctx, idle = startIdle(ctx, pol.PerTryIdleTimeout, errPerTryIdle)
		stops = append(stops, idle.stop)
	}
	stop := func() {
		for _, f := range stops {
			f()
		}
	}
	rs.sending = r.WithContext(ctx)
	resp, err := up.RoundTrip(rs.sending)
	if err != nil {
		switch {
		case idle != nil && errors.Is(context.Cause(ctx), errPerTryIdle):
			rs.ups.perTryIdle.Inc()
			err = errPerTryIdle
		case pol.PerTryTimeout > 0 && errors.Is(ctx.Err(), context.DeadlineExceeded) && r.Context().Err() == nil:
			rs.ups.perTry.Inc()
		}
		stop()
		return nil, err
	}
	body := resp.Body
	if idle != nil {
		body = idleBody{body, idle}
	}
	resp.Body = &cancelBody{ReadCloser: body, cancel: stop}
	return resp, nil
}

// errPerTryIdle ends a try silent for per_try_idle_timeout: a timeout
// (504 UT, retried as a per-try timeout is).
var errPerTryIdle = fmt.Errorf("per-try idle timeout: %w", context.DeadlineExceeded)

type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// wouldRetry applies the policy's retry_on to one attempt's outcome.
func wouldRetry(pol *router.RetryPolicy, r *http.Request, resp *http.Response, err error) bool {
	if pol == nil {
		return false
	}
	if err == nil {
		return pol.RetriableResponse(resp.StatusCode, resp.Header)
	}
	return retriableError(pol, r, err)
}

// retriableError is Envoy's wouldRetryFromReset: never an overflow (nor a
// cluster without healthy hosts, which a retry cannot change); any
// failure under 5xx, gateway-error or reset (a per-try timeout included);
// a failed connect under connect-failure; an HTTP/2 REFUSED_STREAM under
// refused-stream.
func retriableError(pol *router.RetryPolicy, r *http.Request, err error) bool {
	if errors.Is(err, cluster.ErrNoHealthyHost) || errors.Is(err, cluster.ErrOverflow) || errors.Is(err, errReplayLost) {
		return false
	}
	if pol.On("5xx") || pol.On("gateway-error") || pol.On("reset") {
		return true
	}
	if errors.Is(err, context.DeadlineExceeded) && r.Context().Err() == nil {
		return false // a per-try timeout is retried only by the three above
	}
	if pol.On("connect-failure") && isConnectFailure(err) {
		return true
	}
	return pol.On("refused-stream") && strings.Contains(err.Error(), "REFUSED_STREAM")
}

// isConnectFailure tells a failed connect from a failure after it: a dial
// error, or the pool's fast failure after a recent one.
func isConnectFailure(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	return errors.Is(err, cluster.ErrRecentConnectFailure)
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
