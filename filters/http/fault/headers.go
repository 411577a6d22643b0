package fault

import (
	"net/http"
	"strconv"
	"time"

	"github.com/sluice-proxy/sluice/config"
)

// The headers a client sets to pick its own fault, honoured only when the
// config has header_delay / header_abort.
const (
	hdrDelay        = "X-Envoy-Fault-Delay-Request"
	hdrDelayPercent = "X-Envoy-Fault-Delay-Request-Percentage"
	hdrAbort        = "X-Envoy-Fault-Abort-Request"
	hdrAbortGRPC    = "X-Envoy-Fault-Abort-Grpc-Request"
	hdrAbortPercent = "X-Envoy-Fault-Abort-Request-Percentage"
)

// maxHeaderDelay bounds a client-chosen delay: a header cannot hold a
// stream (and its goroutine) open for longer than this.
const maxHeaderDelay = time.Hour

// headerDelay reads x-envoy-fault-delay-request: a non-negative number of
// milliseconds. ok is false when the header is absent or invalid, which
// means no delay (Envoy ignores a bad value).
func headerDelay(h http.Header) (d time.Duration, ok bool) {
	ms, err := strconv.ParseUint(h.Get(hdrDelay), 10, 64)
	if err != nil || ms > uint64(maxHeaderDelay/time.Millisecond) {
		return 0, false
	}
	return time.Duration(ms) * time.Millisecond, true
}

// headerAbort reads x-envoy-fault-abort-request (an HTTP status in
// [200, 600)) or, failing that, x-envoy-fault-abort-grpc-request (a gRPC
// status, 0 and up).
func headerAbort(h http.Header) (httpStatus int, grpcStatus int, ok bool) {
	if v := h.Get(hdrAbort); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 200 || n >= 600 {
			return 0, 0, false
		}
		return n, -1, true
	}
	if v := h.Get(hdrAbortGRPC); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 1<<20 {
			return 0, 0, false
		}
		return 0, n, true
	}
	return 0, 0, false
}

// headerPercent applies a *-percentage header to the configured fraction:
// the header's number is a numerator over the configured denominator,
// capped at the configured numerator (a client can lower the rate, never
// raise it). An absent or bad header leaves the configured fraction.
func headerPercent(h http.Header, name string, conf config.FractionalPercent) fraction {
	f := fraction{conf.Numerator, conf.Scale()}
	if v := h.Get(name); v != "" {
		if n, err := strconv.ParseUint(v, 10, 32); err == nil {
			f.num = min(f.num, uint32(n))
		}
	}
	return f
}
