package router

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Envoy's retry request headers: honoured when they reach the router (the
// connection manager strips x-envoy-* from external requests) and removed
// before the request goes upstream.
const (
	hdrRetryOn         = "X-Envoy-Retry-On"
	hdrRetryGrpcOn     = "X-Envoy-Retry-Grpc-On"
	hdrMaxRetries      = "X-Envoy-Max-Retries"
	hdrRetriableStatus = "X-Envoy-Retriable-Status-Codes"
	hdrPerTryTimeout   = "X-Envoy-Upstream-Rq-Per-Try-Timeout-Ms"
)

// WithRequestHeaders merges the request's x-envoy-retry-on,
// x-envoy-retry-grpc-on, x-envoy-max-retries,
// x-envoy-retriable-status-codes and
// x-envoy-upstream-rq-per-try-timeout-ms into p (which may be nil) as Envoy's
// RetryStateImpl does: conditions are added to the route's, the header's
// retry count replaces num_retries, and status codes are added. It removes
// the headers from h and returns p itself when none is present.
func (p *RetryPolicy) WithRequestHeaders(h http.Header) *RetryPolicy {
	on, grpcOn, maxR, codes := h[hdrRetryOn], h[hdrRetryGrpcOn], h[hdrMaxRetries], h[hdrRetriableStatus]
	perTry := h[hdrPerTryTimeout]
	if on == nil && grpcOn == nil && maxR == nil && codes == nil && perTry == nil {
		return p
	}
	for _, k := range []string{hdrRetryOn, hdrRetryGrpcOn, hdrMaxRetries, hdrRetriableStatus, hdrPerTryTimeout} {
		delete(h, k)
	}
	var out RetryPolicy
	if p != nil {
		out = *p
		out.RetryOn = slices.Clone(p.RetryOn)
		out.RetriableStatusCodes = slices.Clone(p.RetriableStatusCodes)
	} else {
		out = RetryPolicy{NumRetries: 1, BaseInterval: defaultBaseInterval, MaxInterval: 10 * defaultBaseInterval}
	}
	for _, v := range append(on, grpcOn...) {
		for _, c := range strings.Split(v, ",") {
			if c = strings.TrimSpace(c); c != "" && !out.On(c) {
				out.RetryOn = append(out.RetryOn, c)
			}
		}
	}
	if len(maxR) > 0 && len(out.RetryOn) > 0 {
		if n, err := strconv.ParseUint(strings.TrimSpace(maxR[0]), 10, 32); err == nil {
			out.NumRetries = uint32(n)
		}
	}
	for _, v := range codes {
		for _, c := range strings.Split(v, ",") {
			if n, err := strconv.ParseUint(strings.TrimSpace(c), 10, 32); err == nil {
				out.RetriableStatusCodes = append(out.RetriableStatusCodes, uint32(n))
			}
		}
	}
	perTrySet := false
	if len(perTry) > 0 { // x-envoy-upstream-rq-per-try-timeout-ms replaces per_try_timeout
		if ms, err := strconv.ParseUint(strings.TrimSpace(perTry[0]), 10, 32); err == nil {
			out.PerTryTimeout, perTrySet = time.Duration(ms)*time.Millisecond, true
		}
	}
	if len(out.RetryOn) == 0 && !perTrySet {
		return p
	}
	if p == nil && len(out.RetryOn) == 0 {
		out.NumRetries = 0 // only the per-try bound was asked for
	}
	return &out
}

// grpcRetryOn maps Envoy's gRPC retry_on names to grpc-status codes.
var grpcRetryOn = map[string]string{
	"cancelled": "1", "deadline-exceeded": "4", "resource-exhausted": "8", "internal": "13", "unavailable": "14",
}

// RetriableResponse reports whether the response head is to be retried:
// Envoy's wouldRetryFromHeaders (status conditions, retriable-headers, and
// the gRPC conditions judged from a grpc-status in the headers, i.e. a
// trailers-only response). Responses marked x-envoy-ratelimited or
// x-envoy-overloaded are never retried.
func (p *RetryPolicy) RetriableResponse(status int, h http.Header) bool {
	if p == nil || h.Get("X-Envoy-Overloaded") != "" || (h.Get("X-Envoy-Ratelimited") != "" && !p.On("envoy-ratelimited")) {
		return false
	}
	if h.Get("X-Envoy-Ratelimited") != "" {
		return true
	}
	if p.RetriableStatus(status) {
		return true
	}
	if p.On("retriable-headers") && len(p.retriableHeaders) > 0 {
		req := http.Request{Header: h, URL: &url.URL{}} // the matchers read headers only
		for i := range p.retriableHeaders {
			if p.retriableHeaders[i].matches(&req) {
				return true
			}
		}
	}
	if gs, ok := h["Grpc-Status"]; ok && len(gs) > 0 {
		for _, c := range p.RetryOn {
			if code, ok := grpcRetryOn[c]; ok && code == gs[0] {
				return true
			}
		}
	}
	return false
}
