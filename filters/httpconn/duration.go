package httpconn

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	httpfilter "github.com/sluice-proxy/sluice/filters/http"
)

// errMaxDuration is the cause of a stream's context ended by
// max_stream_duration (the connection manager's, or a route's
// max_stream_duration.max_stream_duration, which replaces it): Envoy
// answers 408 "downstream duration timeout" (flag DT) when no response
// has started, resets the stream otherwise, and counts
// downstream_rq_max_duration_reached either way.
var errMaxDuration = errors.New("max stream duration reached")

// withMaxDuration bounds ctx by d with errMaxDuration as the cause.
func withMaxDuration(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(ctx, d, errMaxDuration)
}

// maxDurationReached reports whether ctx (or a parent) ended by
// max_stream_duration.
func maxDurationReached(ctx context.Context) bool {
	return errors.Is(context.Cause(ctx), errMaxDuration)
}

// durationTimeout answers a stream ended by max_stream_duration: 408, or
// for gRPC DEADLINE_EXCEEDED (Envoy's choice: the grpc-timeout header is
// often what set the duration).
func (m *Manager) durationTimeout(w http.ResponseWriter, r *http.Request) {
	const msg = "downstream duration timeout"
	if !isGRPC(r) {
		m.localReply(w, r, http.StatusRequestTimeout, msg, httpfilter.DurationTimeout)
		return
	}
	if st := httpfilter.FromContext(r.Context()); st != nil {
		st.SetFlag(httpfilter.DurationTimeout)
	}
	m.grpcLocalReplyCode(w, 4, msg)
}

// headerTimeout is Envoy's x-envoy-upstream-rq-timeout-ms: when the request
// carries it (an internal caller: the edge strips x-envoy-*), it replaces
// the route timeout d (0 disables it); it is removed before the request
// goes upstream.
func headerTimeout(h http.Header, d time.Duration) time.Duration {
	v, ok := h["X-Envoy-Upstream-Rq-Timeout-Ms"]
	if !ok {
		return d
	}
	delete(h, "X-Envoy-Upstream-Rq-Timeout-Ms")
	if len(v) > 0 {
		if ms, err := strconv.ParseUint(strings.TrimSpace(v[0]), 10, 32); err == nil {
			return time.Duration(ms) * time.Millisecond
		}
	}
	return d
}
