package httppool

import (
	"strconv"
	"sync/atomic"

	"github.com/sluice-proxy/sluice/stats"
)

// poolStats are the request and connection stats the pool counts, with
// Envoy's names under the cluster's scope.
type poolStats struct {
	sc              *stats.Scope
	pendingTotal    *stats.Counter
	pendingActive   *stats.Gauge
	completed       *stats.Counter
	class           [6]*stats.Counter // upstream_rq_1xx..5xx at [1..5]
	codes           [600]atomic.Pointer[stats.Counter]
	rqTime          *stats.Histogram
	timeout         *stats.Counter
	rxReset         *stats.Counter
	txReset         *stats.Counter
	cxHTTP1         *stats.Counter
	cxHTTP2         *stats.Counter
	cxMaxRequests   *stats.Counter
	cxIdleTimeout   *stats.Counter
	cxMaxDurReached *stats.Counter
}

func newPoolStats(sc *stats.Scope) *poolStats {
	s := &poolStats{
		sc:              sc,
		pendingTotal:    sc.Counter("upstream_rq_pending_total"),
		pendingActive:   sc.Gauge("upstream_rq_pending_active"),
		completed:       sc.Counter("upstream_rq_completed"),
		rqTime:          sc.Histogram("upstream_rq_time"),
		timeout:         sc.Counter("upstream_rq_timeout"),
		rxReset:         sc.Counter("upstream_rq_rx_reset"),
		txReset:         sc.Counter("upstream_rq_tx_reset"),
		cxHTTP1:         sc.Counter("upstream_cx_http1_total"),
		cxHTTP2:         sc.Counter("upstream_cx_http2_total"),
		cxMaxRequests:   sc.Counter("upstream_cx_max_requests"),
		cxIdleTimeout:   sc.Counter("upstream_cx_idle_timeout"),
		cxMaxDurReached: sc.Counter("upstream_cx_max_duration_reached"),
	}
	for i := 1; i <= 5; i++ {
		s.class[i] = sc.Counter("upstream_rq_" + strconv.Itoa(i) + "xx")
	}
	return s
}

// response counts one response's status: upstream_rq_<code> (resolved once
// per code) and its class.
func (s *poolStats) response(code int) {
	if code < 100 || code >= len(s.codes) {
		return
	}
	c := s.codes[code].Load()
	if c == nil {
		c = s.sc.Counter("upstream_rq_" + strconv.Itoa(code))
		s.codes[code].Store(c)
	}
	c.Inc()
	s.class[code/100].Inc()
}
