package cluster

import "github.com/sluice-proxy/sluice/stats"

// Stats are a cluster's stats with Envoy's names under "cluster.<name>.",
// resolved once per cluster.
type Stats struct {
	CxTotal               *stats.Counter
	CxActive              *stats.Gauge
	CxConnectFail         *stats.Counter
	CxConnectTimeout      *stats.Counter
	CxConnectAttemptsExcd *stats.Counter
	CxNoneHealthy         *stats.Counter
	CxOverflow            *stats.Counter
	CxDestroy             *stats.Counter
	CxDestroyLocal        *stats.Counter
	CxDestroyRemote       *stats.Counter
	CxRxBytes             *stats.Counter
	CxTxBytes             *stats.Counter
	CxConnectMs           *stats.Histogram
	CxLengthMs            *stats.Histogram
	MembershipTotal       *stats.Gauge
	MembershipHealthy     *stats.Gauge
	MembershipDegraded    *stats.Gauge
	MembershipChange      *stats.Counter
	MaxHostWeight         *stats.Gauge
	UpdateSuccess         *stats.Counter
	UpdateFailure         *stats.Counter
	UpdateAttempt         *stats.Counter
	RqTotal               *stats.Counter
	RqActive              *stats.Gauge
	RqPendingOverflow     *stats.Counter
	LBHealthyPanic        *stats.Counter
	Scope                 *stats.Scope
	// hc are the health_check.* stats, outlier the outlier_detection.* ones.
	hc      *hcStats
	outlier *outlierStats
}

func newStats(root *stats.Scope, name string) *Stats {
	sc := root.Sub("cluster").Tagged("envoy_cluster_name", name)
	// Tagged scope gives "cluster.<name>." with extracted name "cluster.".
	return &Stats{
		Scope:                 sc,
		CxTotal:               sc.Counter("upstream_cx_total"),
		CxActive:              sc.Gauge("upstream_cx_active"),
		CxConnectFail:         sc.Counter("upstream_cx_connect_fail"),
		CxConnectTimeout:      sc.Counter("upstream_cx_connect_timeout"),
		CxConnectAttemptsExcd: sc.Counter("upstream_cx_connect_attempts_exceeded"),
		CxNoneHealthy:         sc.Counter("upstream_cx_none_healthy"),
		CxOverflow:            sc.Counter("upstream_cx_overflow"),
		CxDestroy:             sc.Counter("upstream_cx_destroy"),
		CxDestroyLocal:        sc.Counter("upstream_cx_destroy_local"),
		CxDestroyRemote:       sc.Counter("upstream_cx_destroy_remote"),
		CxRxBytes:             sc.Counter("upstream_cx_rx_bytes_total"),
		CxTxBytes:             sc.Counter("upstream_cx_tx_bytes_total"),
		CxConnectMs:           sc.Histogram("upstream_cx_connect_ms"),
		CxLengthMs:            sc.Histogram("upstream_cx_length_ms"),
		MembershipTotal:       sc.Gauge("membership_total"),
		MembershipHealthy:     sc.Gauge("membership_healthy"),
		MembershipDegraded:    sc.Gauge("membership_degraded"),
		MembershipChange:      sc.Counter("membership_change"),
		MaxHostWeight:         sc.Gauge("max_host_weight"),
		UpdateAttempt:         sc.Counter("update_attempt"),
		UpdateSuccess:         sc.Counter("update_success"),
		UpdateFailure:         sc.Counter("update_failure"),
		RqTotal:               sc.Counter("upstream_rq_total"),
		RqActive:              sc.Gauge("upstream_rq_active"),
		RqPendingOverflow:     sc.Counter("upstream_rq_pending_overflow"),
		LBHealthyPanic:        sc.Counter("lb_healthy_panic"),
		hc:                    newHCStats(sc),
		outlier:               newOutlierStats(sc),
	}
}
