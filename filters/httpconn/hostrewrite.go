package httpconn

import (
	"net/http"

	"slices"

	"github.com/sluice-proxy/sluice/cluster"
	"github.com/sluice-proxy/sluice/cluster/httppool"
	"github.com/sluice-proxy/sluice/router"
)

// autoHost is auto_host_rewrite: the Host becomes the chosen upstream
// host's hostname (its endpoint's hostname, or its DNS name); hosts without
// one leave the Host as it is, as in Envoy. With append_x_forwarded_host
// the original goes to x-forwarded-host.
func autoHost(r *http.Request, h *cluster.Host, appendXFH bool) {
	if name := h.Hostname(); name != "" && name != r.Host {
		if appendXFH { // a retry reusing the request finds the Host rewritten already
			router.AppendForwardedHost(r.Header, r.Host)
		}
		r.Host = name
	}
}

// previousHosts is Envoy's previous_hosts retry host predicate: a retry
// re-picks a host already tried, up to host_selection_retry_max_attempts
// more picks (Envoy's default 1), then goes to the last pick.
func previousHosts(rs *routeState, pol *router.RetryPolicy) httppool.HostFilter {
	extra := int(pol.HostSelectionRetryMaxAttempts)
	if extra <= 0 {
		extra = 1
	}
	return httppool.HostFilter{Picks: 1 + extra, Reject: func(h *cluster.Host) bool { return slices.Contains(rs.tried, h) }}
}
