package httpconn

import (
	"github.com/sluice-proxy/sluice/config"
)

// clusterRefs lists the clusters a route configuration names (cluster and
// weighted_clusters; cluster_header is only known per request).
func clusterRefs(rc *config.RouteConfiguration, path string) []config.ClusterRef {
	var out []config.ClusterRef
	for i, vh := range rc.VirtualHosts {
		vp := config.Index(config.Join(path, "virtual_hosts"), i)
		for j, r := range vh.Routes {
			if r.Route == nil {
				continue
			}
			rp := config.Join(config.Index(config.Join(vp, "routes"), j), "route")
			if r.Route.Cluster != "" {
				out = append(out, config.ClusterRef{Path: config.Join(rp, "cluster"), Name: r.Route.Cluster})
			}
			if wc := r.Route.WeightedClusters; wc != nil {
				for k, c := range wc.Clusters {
					p := config.Join(config.Index(config.Join(rp, "weighted_clusters.clusters"), k), "name")
					out = append(out, config.ClusterRef{Path: p, Name: c.Name})
				}
			}
		}
	}
	return out
}
