package httpconn

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluice-proxy/sluice/router"
)

// maxDuration is a stream's max_stream_duration timer, as Envoy's
// ActiveStream keeps it: armed from the connection manager's
// common_http_protocol_options at the stream's start, re-armed by the
// route's max_stream_duration (or the grpc-timeout it caps), always
// measured from the stream's start. When it fires the stream counts
// downstream_rq_max_duration_reached and its context ends; the router then
// answers Envoy's local reply (408 while the request is still arriving,
// else 504, "downstream duration timeout"; gRPC: DEADLINE_EXCEEDED), or
// resets the stream if the response had begun.
type maxDuration struct {
	start  time.Time
	onFire func()
	fired  atomic.Bool
	// bodyDone: the request arrived whole (408 or 504 when fired).
	bodyDone atomic.Bool

	mu    sync.Mutex
	timer *time.Timer
}

type maxDurationKey struct{}

// set (re)arms the timer to end the stream d after its start (d > 0).
func (md *maxDuration) set(d time.Duration) {
	md.mu.Lock()
	defer md.mu.Unlock()
	if md.timer != nil {
		md.timer.Stop()
	}
	left := d - time.Since(md.start)
	if left < 0 {
		left = 0
	}
	md.timer = time.AfterFunc(left, func() {
		if md.fired.CompareAndSwap(false, true) {
			md.onFire()
		}
	})
}

// stop disarms the timer (the stream ended).
func (md *maxDuration) stop() {
	md.mu.Lock()
	defer md.mu.Unlock()
	if md.timer != nil {
		md.timer.Stop()
	}
}

// withMaxDuration returns ctx carrying the stream's timer, cancelled when
// it fires, and the timer (armed with d when d > 0).
func (m *Manager) withMaxDuration(ctx context.Context, start time.Time, d time.Duration) (context.Context, *maxDuration, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	md := &maxDuration{start: start}
	md.onFire = func() {
		m.stats.RqMaxDuration.Inc()
		cancel()
	}
	if d > 0 {
		md.set(d)
	}
	return context.WithValue(ctx, maxDurationKey{}, md), md, cancel
}

// maxDurationOf returns the stream's timer, or nil outside serveStream.
func maxDurationOf(ctx context.Context) *maxDuration {
	md, _ := ctx.Value(maxDurationKey{}).(*maxDuration)
	return md
}

// maxDurationReply answers a stream whose max_stream_duration passed, as
// Envoy's onStreamMaxDurationReached: 408 if the request had not arrived
// whole, 504 if it had; a gRPC request gets DEADLINE_EXCEEDED.
func (m *Manager) maxDurationReply(w http.ResponseWriter, r *http.Request, requestComplete bool) {
	const msg = "downstream duration timeout"
	status := http.StatusRequestTimeout
	if requestComplete {
		status = http.StatusGatewayTimeout
	}
	if router.IsGRPC(r.Header) {
		m.grpcLocalReplyCode(w, 4, msg) // DEADLINE_EXCEEDED, Envoy's explicit status here
		return
	}
	m.localReplyBody(w, r, status, msg)
}
