// Package dynamicforwardproxy is Envoy's dynamic forward proxy HTTP filter
// (envoy.filters.http.dynamic_forward_proxy): before the router forwards a
// request to a dynamic_forward_proxy cluster it resolves the request's
// host through the cluster's DNS cache (cluster/dnscache.go), so a name
// that does not resolve gets 503 with the DF flag instead of a connect
// failure. Which hosts may be reached is the route table's business: list
// the allowed domains in a virtual host routed to the cluster and answer
// the rest from a "*" virtual host (403), as Envoy's docs do.
package dynamicforwardproxy

import (
	"net/http"
	"strconv"

	"github.com/sluice-proxy/sluice/cluster"
	"github.com/sluice-proxy/sluice/config"
	httpfilter "github.com/sluice-proxy/sluice/filters/http"
	"github.com/sluice-proxy/sluice/router"
)

// Name is the filter's key in http_filters.
const Name = "dynamic_forward_proxy"

// Config is Envoy's FilterConfig: the DNS cache the filter resolves
// through, by name (the dynamic_forward_proxy cluster's dns_cache_config).
type Config struct {
	DNSCacheConfig config.DNSCacheConfig `yaml:"dns_cache_config" json:"dns_cache_config"`
}

func init() {
	httpfilter.Register(httpfilter.Factory{
		Name:      Name,
		NewConfig: func() any { return &Config{} },
		Build: func(cfg any, env *httpfilter.Env) (httpfilter.Filter, error) {
			return &Filter{cache: cfg.(*Config).DNSCacheConfig.Name, clusters: env.Clusters}, nil
		},
	})
}

// Filter is a built dynamic_forward_proxy filter.
type Filter struct {
	cache    string
	clusters *cluster.Manager
}

// Wrap implements httpfilter.Filter.
func (f *Filter) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := httpfilter.FromContext(r.Context())
		rt, _ := st.Route.(*router.Route)
		if rt == nil {
			next.ServeHTTP(w, r)
			return
		}
		cl := f.clusters.Get(rt.Cluster(r))
		if cl == nil || !cl.IsDynamicForwardProxy() || cl.Config().DNSCacheConfig.Name != f.cache {
			next.ServeHTTP(w, r) // not ours: the router answers (NC, or a plain cluster)
			return
		}
		if _, err := cl.ResolveHost(r.Context(), httpfilter.Authority(r)); err != nil {
			st.SetFlag(httpfilter.DNSResolutionFailure)
			const body = "DNS resolution failure"
			w.Header().Set("Content-Type", "text/plain")
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(body))
			return
		}
		next.ServeHTTP(w, r)
	})
}

var _ httpfilter.Filter = (*Filter)(nil)
