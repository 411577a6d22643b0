package router

import (
	"net/http"

	"github.com/sluice-proxy/sluice/config"
)

// vcluster is a compiled virtual_clusters entry.
type vcluster struct {
	name    string
	headers []headerMatch
}

func compileVClusters(vcs []config.VirtualCluster) []vcluster {
	var out []vcluster
	for _, vc := range vcs {
		c := vcluster{name: vc.Name}
		for i := range vc.Headers {
			c.headers = append(c.headers, compileHeader(&vc.Headers[i]))
		}
		out = append(out, c)
	}
	return out
}

// matches is true when every header matcher holds (":path", ":method"
// and ":authority" included), as in Envoy's VirtualClusterEntry.
func (v *vcluster) matches(req *http.Request) bool {
	for i := range v.headers {
		if !v.headers[i].matches(req) {
			return false
		}
	}
	return true
}
