package httpconn

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"

	"github.com/sluice-proxy/sluice/stats"
)

// vcStats are one virtual cluster's stats, Envoy's
// vhost.<vhost>.vcluster.<vc>.upstream_rq_* (the router filter's).
type vcStats struct {
	sc           *stats.Scope
	total        *stats.Counter
	timeout      *stats.Counter
	retry        *stats.Counter
	retrySuccess *stats.Counter
	retryLimit   *stats.Counter
	retryOver    *stats.Counter
	time         *stats.Histogram
	class        [6]*stats.Counter
	mu           sync.Mutex
	codes        map[int]*stats.Counter
}

type vcKey struct{ vhost, vc string }

// vcluster returns the stats of virtual cluster vc of virtual host vh; nil
// when vc is "" (the host has no virtual clusters: Envoy counts nothing).
func (f *featStats) vcluster(vh, vc string) *vcStats {
	if vc == "" {
		return nil
	}
	k := vcKey{vh, vc}
	if v, ok := f.vcs.Load(k); ok {
		return v.(*vcStats)
	}
	sc := f.root.Sub("vhost").Tagged("envoy_virtual_host", vh).Sub("vcluster").Tagged("envoy_virtual_cluster", vc)
	s := &vcStats{sc: sc, total: sc.Counter("upstream_rq_total"), timeout: sc.Counter("upstream_rq_timeout"),
		retry: sc.Counter("upstream_rq_retry"), retrySuccess: sc.Counter("upstream_rq_retry_success"),
		retryLimit: sc.Counter("upstream_rq_retry_limit_exceeded"), retryOver: sc.Counter("upstream_rq_retry_overflow"),
		time: sc.Histogram("upstream_rq_time"), codes: map[int]*stats.Counter{}}
	for i := 1; i <= 5; i++ {
		s.class[i] = sc.Counter("upstream_rq_" + strconv.Itoa(i) + "xx")
	}
	v, _ := f.vcs.LoadOrStore(k, s)
	return v.(*vcStats)
}

// response counts one request's final status (upstream's or the router's
// own 503/504) and, when ms >= 0, its upstream time.
func (s *vcStats) response(status int, ms int64) {
	if s == nil {
		return
	}
	s.total.Inc()
	if c := status / 100; c >= 1 && c <= 5 {
		s.class[c].Inc()
	}
	s.mu.Lock()
	c, ok := s.codes[status]
	if !ok {
		c = s.sc.Counter("upstream_rq_" + strconv.Itoa(status))
		s.codes[status] = c
	}
	s.mu.Unlock()
	c.Inc()
	if ms >= 0 {
		s.time.Record(float64(ms))
	}
}

// failed counts a request the upstream did not answer with the status the
// router answers (upstreamError): 504 and upstream_rq_timeout for a
// timeout, 503 otherwise; nothing when the client left.
func (s *vcStats) failed(r *http.Request, err error) {
	if s == nil {
		return
	}
	switch {
	case maxDurationReached(r.Context()):
		status := http.StatusGatewayTimeout // as maxDurationReply answers
		if !maxDurationOf(r.Context()).bodyDone.Load() {
			status = http.StatusRequestTimeout
		}
		s.response(status, -1)
	case errors.Is(r.Context().Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded):
		s.timeout.Inc()
		s.response(http.StatusGatewayTimeout, -1)
	case r.Context().Err() != nil:
	default:
		s.response(http.StatusServiceUnavailable, -1)
	}
}

// inc counts c of s, when s is set (counters are picked by the caller).
func (s *vcStats) inc(c func(*vcStats) *stats.Counter) {
	if s != nil {
		c(s).Inc()
	}
}
