package xds

import (
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/sluice-proxy/sluice/stats"
)

// subStats are Envoy's subscription stats, under cluster_manager.cds.,
// listener_manager.lds. or cluster.<name>. (EDS).
type subStats struct {
	attempt, success, rejected, failure, empty, initTimeout *stats.Counter
	version, updateTime                                     *stats.Gauge
	// duration is Envoy's update_duration: ms to apply an accepted update.
	duration *stats.Histogram
}

func newSubStats(sc *stats.Scope) *subStats {
	return &subStats{
		attempt: sc.Counter("update_attempt"), success: sc.Counter("update_success"),
		rejected: sc.Counter("update_rejected"), failure: sc.Counter("update_failure"),
		empty: sc.Counter("update_empty"), initTimeout: sc.Counter("init_fetch_timeout"),
		version: sc.Gauge("version"), updateTime: sc.Gauge("update_time"),
		duration: sc.Histogram("update_duration"),
	}
}

// accepted counts a successful update of version v that took d.
func (s *subStats) accepted(v string, d time.Duration) {
	s.success.Inc()
	s.duration.Record(float64(d.Microseconds()) / 1000)
	s.version.Set(versionHash(v))
	s.updateTime.Set(time.Now().UnixMilli())
}

// versionHash is Envoy's version stat: xxHash64 of version_info (a gauge
// holds its bits).
func versionHash(v string) int64 { return int64(xxhash.Sum64String(v)) }

// controlPlaneStats are Envoy's control_plane.* stats of a gRPC mux.
type controlPlaneStats struct {
	connected       *stats.Gauge
	rateLimited     *stats.Counter
	pendingRequests *stats.Gauge
}

func newControlPlaneStats(root *stats.Scope) *controlPlaneStats {
	sc := root.Sub("control_plane")
	return &controlPlaneStats{connected: sc.Gauge("connected_state"),
		rateLimited: sc.Counter("rate_limit_enforced"), pendingRequests: sc.Gauge("pending_requests")}
}

// typeStats returns the stats scope of a type's subscription: CDS and LDS
// have one each; EDS has one per cluster (edsStats).
func typeStats(root *stats.Scope, typeURL string) *subStats {
	switch typeURL {
	case ClusterType:
		return newSubStats(root.Sub("cluster_manager").Sub("cds"))
	case ListenerType:
		return newSubStats(root.Sub("listener_manager").Sub("lds"))
	}
	return nil
}

// edsStats returns cluster.<name>.update_* for an EDS cluster.
func edsStats(root *stats.Scope, cluster string) *subStats {
	return newSubStats(root.Sub("cluster").Tagged("envoy_cluster_name", cluster))
}
