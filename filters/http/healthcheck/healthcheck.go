// Package healthcheck is Envoy's health check filter
// (envoy.filters.http.health_check): it recognises health check requests by
// their headers and answers them itself (200, or 503 when the server fails
// health checks or a cluster has too few healthy hosts) or forwards them,
// optionally caching the upstream's answer.
package healthcheck

import (
	"net/http"
	"sync"
	"time"

	"github.com/sluice-proxy/sluice/cluster"
	httpfilter "github.com/sluice-proxy/sluice/filters/http"
	"github.com/sluice-proxy/sluice/router"
)

// Name is the filter's key in http_filters.
const Name = "health_check"

func init() {
	httpfilter.Register(httpfilter.Factory{
		Name:      Name,
		NewConfig: func() any { return &Config{} },
		Build: func(cfg any, env *httpfilter.Env) (httpfilter.Filter, error) {
			return New(cfg.(*Config), env), nil
		},
	})
}

// Filter is a built health_check filter.
type Filter struct {
	cfg      *Config
	headers  router.HeaderMatchers
	failed   func() bool
	clusters *cluster.Manager
	now      func() time.Time

	mu       sync.Mutex // guards the cache
	cached   int        // the cached upstream status; 0: none
	cachedAt time.Time
}

// New builds the filter.
func New(c *Config, env *httpfilter.Env) *Filter {
	f := &Filter{cfg: c, headers: router.CompileHeaders(c.Headers), failed: env.HealthCheckFailed, clusters: env.Clusters, now: time.Now}
	if f.failed == nil {
		f.failed = func() bool { return false }
	}
	return f
}

// Wrap implements httpfilter.Filter.
func (f *Filter) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !f.headers.Match(r) {
			next.ServeHTTP(w, r)
			return
		}
		if f.failed() {
			answer(w, http.StatusServiceUnavailable)
			return
		}
		if !*f.cfg.PassThroughMode {
			answer(w, f.clusterStatus())
			return
		}
		if f.cfg.CacheTime == nil {
			next.ServeHTTP(w, r)
			return
		}
		if code := f.fromCache(); code != 0 {
			answer(w, code)
			return
		}
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status != 0 {
			f.mu.Lock()
			f.cached, f.cachedAt = rec.status, f.now()
			f.mu.Unlock()
		}
	})
}

// clusterStatus is 200, or 503 when a listed cluster is missing or has
// fewer healthy hosts than its minimum percentage.
func (f *Filter) clusterStatus() int {
	for name, min := range f.cfg.ClusterMinHealthyPercentages {
		c := f.clusters.Get(name)
		if c == nil {
			return http.StatusServiceUnavailable
		}
		hosts := c.Hosts()
		if len(hosts) == 0 {
			if min.Value > 0 {
				return http.StatusServiceUnavailable
			}
			continue
		}
		healthy := 0
		for _, h := range hosts {
			if h.Healthy() {
				healthy++
			}
		}
		if 100*float64(healthy)/float64(len(hosts)) < min.Value {
			return http.StatusServiceUnavailable
		}
	}
	return http.StatusOK
}

func (f *Filter) fromCache() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cached != 0 && f.now().Sub(f.cachedAt) < time.Duration(*f.cfg.CacheTime) {
		return f.cached
	}
	return 0
}

// answer writes a health check answer with an empty body, as Envoy does.
func answer(w http.ResponseWriter, code int) {
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(code)
}

// statusRecorder notes the status the upstream answered.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 && code >= 200 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection manager's writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

var _ httpfilter.Filter = (*Filter)(nil)
