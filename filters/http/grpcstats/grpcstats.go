// Package grpcstats is Envoy's gRPC statistics HTTP filter
// (envoy.filters.http.grpc_stats): for each gRPC call it counts, under the
// route's cluster, cluster.<c>.grpc[.<service>.<method>].success|failure|
// total, the request and response messages (gRPC's 5-byte length prefixes,
// found as the bodies stream by: frames.go), and with enable_upstream_stats
// the upstream_rq_time histogram. The frame counter is hand-written: it is
// a dozen lines over gRPC's length-prefixed framing, and no library counts
// frames without buffering them.
package grpcstats

import (
	"net/http"
	"strings"
	"time"

	"github.com/sluice-proxy/sluice/config"
	httpfilter "github.com/sluice-proxy/sluice/filters/http"
	"github.com/sluice-proxy/sluice/router"
	"github.com/sluice-proxy/sluice/stats"
)

// Name is the filter's key in http_filters.
const Name = "grpc_stats"

// Config is Envoy's envoy.extensions.filters.http.grpc_stats.v3.FilterConfig.
type Config struct {
	// EmitFilterState is accepted; sluice has no filter state to emit to.
	EmitFilterState bool `yaml:"emit_filter_state" json:"emit_filter_state,omitempty"`
	// IndividualMethodStatsAllowlist lists the methods with stats of their
	// own; other calls count under cluster.<c>.grpc.
	IndividualMethodStatsAllowlist *MethodList `yaml:"individual_method_stats_allowlist" json:"individual_method_stats_allowlist,omitempty"`
	// StatsForAllMethods gives every method stats of its own (unbounded:
	// for trusted clients only). Unset, like false, counts all calls under
	// cluster.<c>.grpc (Envoy's current default).
	StatsForAllMethods           *bool `yaml:"stats_for_all_methods" json:"stats_for_all_methods,omitempty"`
	EnableUpstreamStats          bool  `yaml:"enable_upstream_stats" json:"enable_upstream_stats,omitempty"`
	ReplaceDotsInGrpcServiceName bool  `yaml:"replace_dots_in_grpc_service_name" json:"replace_dots_in_grpc_service_name,omitempty"`
}

// MethodList is Envoy's config.core.v3.GrpcMethodList.
type MethodList struct {
	Services []Service `yaml:"services" json:"services"`
}

// Service is one service of a MethodList and its methods.
type Service struct {
	Name        string   `yaml:"name" json:"name"`
	MethodNames []string `yaml:"method_names" json:"method_names"`
}

// Validate refuses both per-method settings at once (a oneof in Envoy).
func (c *Config) Validate(path string, errs *config.Errors) {
	if c.IndividualMethodStatsAllowlist != nil && c.StatsForAllMethods != nil {
		errs.Add(path, "individual_method_stats_allowlist and stats_for_all_methods are exclusive")
	}
}

func init() {
	httpfilter.Register(httpfilter.Factory{
		Name:      Name,
		NewConfig: func() any { return &Config{} },
		Build: func(cfg any, env *httpfilter.Env) (httpfilter.Filter, error) {
			return New(cfg.(*Config), env), nil
		},
	})
}

// Filter is a built grpc_stats filter.
type Filter struct {
	cfg     *Config
	env     *httpfilter.Env
	allowed map[string]bool // "service/method"
}

// New builds the filter.
func New(c *Config, env *httpfilter.Env) *Filter {
	f := &Filter{cfg: c, env: env}
	if l := c.IndividualMethodStatsAllowlist; l != nil {
		f.allowed = map[string]bool{}
		for _, s := range l.Services {
			for _, m := range s.MethodNames {
				f.allowed[s.Name+"/"+m] = true
			}
		}
	}
	return f
}

// Wrap counts gRPC calls (by content-type); other requests pass untouched.
func (f *Filter) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !router.IsGRPC(r.Header) {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		var req frameCounter
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = &countingBody{ReadCloser: r.Body, c: &req}
		}
		rw := &countingWriter{ResponseWriter: w}
		next.ServeHTTP(rw, r)
		f.record(r, w.Header(), req.n, rw.c.n, time.Since(start))
	})
}

// record counts the finished call under its cluster.
func (f *Filter) record(r *http.Request, h http.Header, reqMsgs, respMsgs uint64, d time.Duration) {
	st := httpfilter.FromContext(r.Context())
	if st == nil || st.Cluster == "" || f.env.Clusters == nil {
		return
	}
	cl := f.env.Clusters.Get(st.Cluster)
	if cl == nil {
		return
	}
	sc := cl.Stats().Scope.Sub("grpc")
	if svc, method, ok := f.method(r.URL.Path); ok {
		sc = sc.Sub(svc).Sub(method)
	}
	code := h.Get("Grpc-Status")
	if v, ok := h[http.TrailerPrefix+"Grpc-Status"]; ok && len(v) > 0 {
		code = v[0]
	}
	if code == "0" {
		sc.Counter("success").Inc()
	} else {
		sc.Counter("failure").Inc()
	}
	sc.Counter("total").Inc()
	add(sc, "request_message_count", reqMsgs)
	add(sc, "response_message_count", respMsgs)
	if f.cfg.EnableUpstreamStats {
		sc.Histogram("upstream_rq_time").Record(float64(d.Milliseconds()))
	}
}

func add(sc *stats.Scope, name string, n uint64) {
	if n > 0 {
		sc.Counter(name).Add(n)
	}
}

// method returns the call's service and method when they get stats of
// their own: every well-formed one with stats_for_all_methods, the listed
// ones with an allowlist.
func (f *Filter) method(path string) (string, string, bool) {
	svc, m, ok := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	if !ok || svc == "" || m == "" || strings.Contains(m, "/") {
		return "", "", false
	}
	switch {
	case f.allowed != nil:
		ok = f.allowed[svc+"/"+m]
	case f.cfg.StatsForAllMethods != nil:
		ok = *f.cfg.StatsForAllMethods
	default:
		ok = false
	}
	if ok && f.cfg.ReplaceDotsInGrpcServiceName {
		svc = strings.ReplaceAll(svc, ".", "_")
	}
	return svc, m, ok
}
