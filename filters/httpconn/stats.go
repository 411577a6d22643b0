package httpconn

import (
	"strconv"
	"sync"

	"github.com/sluice-proxy/sluice/cluster"
	"github.com/sluice-proxy/sluice/stats"
)

// Stats are the connection manager's and router's stats with Envoy's names
// under http.<stat_prefix>.
type Stats struct {
	Scope               *stats.Scope
	CxTotal             *stats.Counter
	CxActive            *stats.Gauge
	CxHTTP1Total        *stats.Counter
	CxHTTP1Active       *stats.Gauge
	CxHTTP2Total        *stats.Counter
	CxHTTP2Active       *stats.Gauge
	CxSSLTotal          *stats.Counter
	CxUpgradesTotal     *stats.Counter
	CxUpgradesActive    *stats.Gauge
	CxDestroy           *stats.Counter
	CxDestroyRemote     *stats.Counter
	CxDestroyLocal      *stats.Counter
	CxProtocolError     *stats.Counter
	CxIdleTimeout       *stats.Counter
	CxDrainClose        *stats.Counter
	CxLengthMs          *stats.Histogram
	CxRxBytes           *stats.Counter
	CxTxBytes           *stats.Counter
	RqTotal             *stats.Counter
	RqHTTP1Total        *stats.Counter
	RqHTTP2Total        *stats.Counter
	RqActive            *stats.Gauge
	RqCompleted         *stats.Counter
	RqClass             [6]*stats.Counter // downstream_rq_1xx..5xx at [1..5]
	RqTime              *stats.Histogram
	RqTimeout           *stats.Counter
	RqHeaderTimeout     *stats.Counter
	RqIdleTimeout       *stats.Counter
	RqMaxDuration       *stats.Counter
	RqTooLarge          *stats.Counter
	RqRxReset           *stats.Counter
	NoRoute             *stats.Counter
	NoCluster           *stats.Counter
	RqRedirect          *stats.Counter
	RqDirectResponse    *stats.Counter
	DroppedUnderscores  *stats.Counter
	RejectedUnderscores *stats.Counter

	// CxDestroyRemoteActiveRq counts HTTP/1 clients that closed with a
	// request in flight (its upstream request is canceled).
	CxDestroyRemoteActiveRq *stats.Counter
}

func newStats(root *stats.Scope, prefix string) *Stats {
	sc := root.Sub("http").Tagged("envoy_http_conn_manager_prefix", prefix)
	s := &Stats{
		Scope: sc, CxTotal: sc.Counter("downstream_cx_total"), CxActive: sc.Gauge("downstream_cx_active"),
		CxHTTP1Total: sc.Counter("downstream_cx_http1_total"), CxHTTP1Active: sc.Gauge("downstream_cx_http1_active"),
		CxHTTP2Total: sc.Counter("downstream_cx_http2_total"), CxHTTP2Active: sc.Gauge("downstream_cx_http2_active"),
		CxSSLTotal: sc.Counter("downstream_cx_ssl_total"), CxUpgradesTotal: sc.Counter("downstream_cx_upgrades_total"),
		CxUpgradesActive: sc.Gauge("downstream_cx_upgrades_active"), CxDestroy: sc.Counter("downstream_cx_destroy"),
		CxDestroyRemote: sc.Counter("downstream_cx_destroy_remote"), CxDestroyLocal: sc.Counter("downstream_cx_destroy_local"),
		CxProtocolError: sc.Counter("downstream_cx_protocol_error"), CxIdleTimeout: sc.Counter("downstream_cx_idle_timeout"),
		CxDrainClose: sc.Counter("downstream_cx_drain_close"), CxLengthMs: sc.Histogram("downstream_cx_length_ms"),
		CxRxBytes: sc.Counter("downstream_cx_rx_bytes_total"), CxTxBytes: sc.Counter("downstream_cx_tx_bytes_total"),
		RqTotal: sc.Counter("downstream_rq_total"), RqHTTP1Total: sc.Counter("downstream_rq_http1_total"),
		RqHTTP2Total: sc.Counter("downstream_rq_http2_total"), RqActive: sc.Gauge("downstream_rq_active"),
		RqCompleted: sc.Counter("downstream_rq_completed"), RqTime: sc.Histogram("downstream_rq_time"),
		RqTimeout: sc.Counter("downstream_rq_timeout"), RqHeaderTimeout: sc.Counter("downstream_rq_header_timeout"),
		RqIdleTimeout: sc.Counter("downstream_rq_idle_timeout"), RqMaxDuration: sc.Counter("downstream_rq_max_duration_reached"),
		RqTooLarge: sc.Counter("downstream_rq_too_large"), RqRxReset: sc.Counter("downstream_rq_rx_reset"),
		NoRoute: sc.Counter("no_route"), NoCluster: sc.Counter("no_cluster"),
		RqRedirect: sc.Counter("rq_redirect"), RqDirectResponse: sc.Counter("rq_direct_response"),
		DroppedUnderscores:  sc.Counter("dropped_headers_with_underscores"),
		RejectedUnderscores: sc.Counter("requests_rejected_with_underscores_in_headers"),
	}
	s.CxDestroyRemoteActiveRq = sc.Counter("downstream_cx_destroy_remote_active_rq")
	for i := 1; i <= 5; i++ {
		s.RqClass[i] = sc.Counter("downstream_rq_" + strconv.Itoa(i) + "xx")
	}
	return s
}

// countResponse counts a finished request's status class.
func (s *Stats) countResponse(status int) {
	if c := status / 100; c >= 1 && c <= 5 {
		s.RqClass[c].Inc()
	}
}

// upstreamStats are the router's own cluster stats; the pool counts the
// other upstream_rq_* ones.
type upstreamStats struct {
	retry        *stats.Counter
	retrySuccess *stats.Counter // requests that succeeded after a retry
	// retryLimitExceeded: a retriable outcome after num_retries retries.
	retryLimitExceeded *stats.Counter
	// retryBackoff counts retries sent after the exponential back-off.
	retryBackoff *stats.Counter
	// perTryIdle counts tries ended by per_try_idle_timeout, perTry those
	// ended by per_try_timeout before their response head.
	perTryIdle, perTry *stats.Counter
}

// upstreamCache holds a built filter's upstreamStats per cluster scope.
type upstreamCache struct{ m sync.Map } // *stats.Scope -> *upstreamStats

func (uc *upstreamCache) of(cl *cluster.Cluster) *upstreamStats {
	sc := cl.Stats().Scope
	if v, ok := uc.m.Load(sc); ok {
		return v.(*upstreamStats)
	}
	u := &upstreamStats{retry: sc.Counter("upstream_rq_retry"), retrySuccess: sc.Counter("upstream_rq_retry_success"),
		retryLimitExceeded: sc.Counter("upstream_rq_retry_limit_exceeded"),
		retryBackoff:       sc.Counter("upstream_rq_retry_backoff_exponential"),
		perTryIdle:         sc.Counter("upstream_rq_per_try_idle_timeout"),
		perTry:             sc.Counter("upstream_rq_per_try_timeout")}
	v, _ := uc.m.LoadOrStore(sc, u)
	return v.(*upstreamStats)
}
