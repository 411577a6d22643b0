package router

import (
	"net/http"
	"strings"

	"github.com/sluice-proxy/sluice/config"
)

// bufferLimit is request_body_buffer_limit, else
// per_request_buffer_limit_bytes, else -1 (unset).
func bufferLimit(old *uint32, v *uint64) int64 {
	switch {
	case v != nil:
		return int64(min(*v, 1<<62))
	case old != nil:
		return int64(*old)
	}
	return -1
}

func compileMirrors(ms []config.MirrorPolicy) []Mirror {
	var out []Mirror
	for _, m := range ms {
		out = append(out, Mirror{Cluster: m.Cluster, clusterHeader: http.CanonicalHeaderKey(m.ClusterHeader),
			KeepHost: m.DisableShadowHostSuffixAppend, fraction: compileFraction(m.RuntimeFraction)})
	}
	return out
}

// BufferLimit is the route's per_request_buffer_limit_bytes (its own, else
// its virtual host's); false when neither sets it (the listener's
// per_connection_buffer_limit_bytes applies, as in Envoy).
func (r *Route) BufferLimit() (int64, bool) { return r.bufLimit, r.bufLimit >= 0 }

// AttemptCount reports the virtual host's include_request_attempt_count
// (x-envoy-attempt-count on each upstream request) and
// include_attempt_count_in_response (on the downstream response).
func (r *Route) AttemptCount() (request, response bool) { return r.vh.attemptReq, r.vh.attemptResp }

// VirtualCluster returns the name of the first of the virtual host's
// virtual_clusters that req matches: "other" when the host has virtual
// clusters and none matches, "" when it has none (Envoy counts nothing
// then).
func (r *Route) VirtualCluster(req *http.Request) string {
	if len(r.vh.vclusters) == 0 {
		return ""
	}
	for i := range r.vh.vclusters {
		if r.vh.vclusters[i].matches(req) {
			return r.vh.vclusters[i].name
		}
	}
	return "other"
}

// Upgrade reports the route's upgrade_configs entry for typ (an Upgrade
// header value, any case): whether it enables the upgrade, and whether
// the route has an entry at all.
func (r *Route) Upgrade(typ string) (enabled, set bool) {
	enabled, set = r.upgrades[strings.ToLower(typ)]
	return enabled, set
}

// TimeoutRetryHeader is the virtual host's include_is_timeout_retry_header.
func (r *Route) TimeoutRetryHeader() bool { return r.vh.timeoutRetryHeader }

// AppendXForwardedHost is the route's append_x_forwarded_host (the caller
// applies it to auto_host_rewrite; Rewrite to the other host rewrites).
func (r *Route) AppendXForwardedHost() bool { return r.appendXFH }

// ClusterNotFoundStatus is cluster_not_found_response_code as a status.
func (r *Route) ClusterNotFoundStatus() int {
	if r.noCluster == 0 {
		return http.StatusServiceUnavailable
	}
	return r.noCluster
}

// AppendForwardedHost appends host to x-forwarded-host, comma separated, as
// Envoy does.
func AppendForwardedHost(h http.Header, host string) {
	if old := h.Get("X-Forwarded-Host"); old != "" {
		host = old + "," + host
	}
	h.Set("X-Forwarded-Host", host)
}
