package thrift

import (
	"sync"

	"github.com/sluice-proxy/sluice/cluster"
	"github.com/sluice-proxy/sluice/stats"
)

// Stats are thrift_proxy's and its router's stats with Envoy's names under
// thrift.<stat_prefix>.
type Stats struct {
	Request                 *stats.Counter
	RequestCall             *stats.Counter
	RequestOneway           *stats.Counter
	RequestInvalidType      *stats.Counter
	RequestDecodingError    *stats.Counter
	RequestActive           *stats.Gauge
	RequestTimeMs           *stats.Histogram
	Response                *stats.Counter
	ResponseReply           *stats.Counter
	ResponseSuccess         *stats.Counter
	ResponseError           *stats.Counter
	ResponseException       *stats.Counter
	ResponseDecodingError   *stats.Counter
	CxDestroyLocalActiveRq  *stats.Counter
	CxDestroyRemoteActiveRq *stats.Counter
	DownstreamCxMaxRequests *stats.Counter
	// Router stats.
	RouteMissing              *stats.Counter
	UnknownCluster            *stats.Counter
	UpstreamRqMaintenanceMode *stats.Counter
	NoHealthyUpstream         *stats.Counter
	ShadowRequestSubmitFail   *stats.Counter
	// RequestTooLarge (sluice) counts connections closed for a frame above
	// per_connection_buffer_limit_bytes (also counted as decoding errors).
	RequestTooLarge *stats.Counter
	// UpstreamRqTimeout (sluice) counts calls answered locally after
	// request_timeout.
	UpstreamRqTimeout *stats.Counter
}

func newStats(root *stats.Scope, prefix string) *Stats {
	sc := root.Sub("thrift").Tagged("envoy_thrift_prefix", prefix)
	return &Stats{
		Request:                   sc.Counter("request"),
		RequestCall:               sc.Counter("request_call"),
		RequestOneway:             sc.Counter("request_oneway"),
		RequestInvalidType:        sc.Counter("request_invalid_type"),
		RequestDecodingError:      sc.Counter("request_decoding_error"),
		RequestActive:             sc.Gauge("request_active"),
		RequestTimeMs:             sc.Histogram("request_time_ms"),
		Response:                  sc.Counter("response"),
		ResponseReply:             sc.Counter("response_reply"),
		ResponseSuccess:           sc.Counter("response_success"),
		ResponseError:             sc.Counter("response_error"),
		ResponseException:         sc.Counter("response_exception"),
		ResponseDecodingError:     sc.Counter("response_decoding_error"),
		CxDestroyLocalActiveRq:    sc.Counter("cx_destroy_local_with_active_rq"),
		CxDestroyRemoteActiveRq:   sc.Counter("cx_destroy_remote_with_active_rq"),
		DownstreamCxMaxRequests:   sc.Counter("downstream_cx_max_requests"),
		RouteMissing:              sc.Counter("route_missing"),
		UnknownCluster:            sc.Counter("unknown_cluster"),
		UpstreamRqMaintenanceMode: sc.Counter("upstream_rq_maintenance_mode"),
		NoHealthyUpstream:         sc.Counter("no_healthy_upstream"),
		ShadowRequestSubmitFail:   sc.Counter("shadow_request_submit_failure"),
		RequestTooLarge:           sc.Counter("request_too_large"),
		UpstreamRqTimeout:         sc.Counter("upstream_rq_timeout"),
	}
}

// ClusterStats are the router's cluster.<name>.thrift.* stats.
type ClusterStats struct {
	RqCall            *stats.Counter
	RqOneway          *stats.Counter
	RqInvalidType     *stats.Counter
	RespReply         *stats.Counter
	RespSuccess       *stats.Counter
	RespError         *stats.Counter
	RespException     *stats.Counter
	RespExcLocal      *stats.Counter
	RespExcRemote     *stats.Counter
	RespDecodingError *stats.Counter
	RqTimeMs          *stats.Histogram
	RqSize, RespSize  *stats.Histogram
}

// clusterStats resolves a cluster's thrift stats once and caches them.
type clusterStatsCache struct {
	mu sync.Mutex
	m  map[*cluster.Cluster]*ClusterStats
}

func (c *clusterStatsCache) get(cl *cluster.Cluster) *ClusterStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.m[cl]; s != nil {
		return s
	}
	sc := cl.Stats().Scope.Sub("thrift")
	s := &ClusterStats{
		RqCall:            sc.Counter("upstream_rq_call"),
		RqOneway:          sc.Counter("upstream_rq_oneway"),
		RqInvalidType:     sc.Counter("upstream_rq_invalid_type"),
		RespReply:         sc.Counter("upstream_resp_reply"),
		RespSuccess:       sc.Counter("upstream_resp_success"),
		RespError:         sc.Counter("upstream_resp_error"),
		RespException:     sc.Counter("upstream_resp_exception"),
		RespExcLocal:      sc.Counter("upstream_resp_exception_local"),
		RespExcRemote:     sc.Counter("upstream_resp_exception_remote"),
		RespDecodingError: sc.Counter("upstream_resp_decoding_error"),
		RqTimeMs:          sc.Histogram("upstream_rq_time"),
		RqSize:            sc.Histogram("upstream_rq_size"),
		RespSize:          sc.Histogram("upstream_resp_size"),
	}
	if c.m == nil {
		c.m = map[*cluster.Cluster]*ClusterStats{}
	}
	c.m[cl] = s
	return s
}
