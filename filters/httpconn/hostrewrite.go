package httpconn

import (
	"net/http"

	"github.com/sluice-proxy/sluice/cluster"
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
