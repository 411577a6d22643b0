package httpconn

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxDurationReached reports whether the stream's max_stream_duration
// timer (maxduration.go) fired.
func maxDurationReached(ctx context.Context) bool {
	md := maxDurationOf(ctx)
	return md != nil && md.fired.Load()
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
