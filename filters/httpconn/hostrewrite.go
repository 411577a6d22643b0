package httpconn

import (
	"net/http"

	"github.com/sluice-proxy/sluice/cluster"
)

// autoHost is auto_host_rewrite: the Host becomes the chosen upstream
// host's hostname (its endpoint's hostname, or its DNS name); hosts without
// one leave the Host as it is, as in Envoy.
func autoHost(r *http.Request, h *cluster.Host) {
	if name := h.Hostname(); name != "" {
		r.Host = name
	}
}
