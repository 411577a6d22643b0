// Package fault is Envoy's HTTP fault injection filter
// (envoy.filters.http.fault): delays and aborts injected into a percentage
// of requests, fixed in the config or chosen by the client's
// x-envoy-fault-* headers when the config allows it.
package fault

import (
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	httpfilter "github.com/sluice-proxy/sluice/filters/http"
	"github.com/sluice-proxy/sluice/stats"
)

// Name is the filter's key in http_filters and typed_per_filter_config.
const Name = "fault"

// EnvoyName is Envoy's filter name, also accepted as the
// typed_per_filter_config key.
const EnvoyName = "envoy.filters.http.fault"

// abortBody is Envoy's local reply body for an injected abort.
const abortBody = "fault filter abort"

func init() {
	httpfilter.Register(httpfilter.Factory{
		Name:      Name,
		NewConfig: func() any { return &Config{} },
		Build: func(cfg any, env *httpfilter.Env) (httpfilter.Filter, error) {
			return New(cfg.(*Config), env), nil
		},
	})
}

// Filter is a built fault filter.
type Filter struct {
	cfg      *Config
	perRoute httpfilter.PerRoute[*Config]
	log      *slog.Logger
	badRoute sync.Once

	delays, aborts, overflow *stats.Counter
	active                   *stats.Gauge
}

// New builds the filter; stats are http.<stat_prefix>.fault.*.
func New(c *Config, env *httpfilter.Env) *Filter {
	sc := env.Stats.Sub("fault")
	f := &Filter{
		cfg: c, log: env.Log,
		delays: sc.Counter("delays_injected"), aborts: sc.Counter("aborts_injected"),
		overflow: sc.Counter("faults_overflow"), active: sc.Gauge("active_faults"),
	}
	f.perRoute.NewConfig = func() any { return &Config{} }
	f.perRoute.Build = func(cfg any) (*Config, error) { return cfg.(*Config), nil }
	return f
}

// plan is what one request gets: a delay, an abort, both or neither.
type plan struct {
	delay      time.Duration
	delayed    bool
	httpStatus int
	grpcStatus int // -1: none
	aborted    bool
}

// Wrap implements httpfilter.Filter.
func (f *Filter) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := f.configFor(r)
		if err != nil {
			f.badRoute.Do(func() { f.log.Error("fault: bad per-route config", "err", err) })
			http.Error(w, "fault: bad per-route config", http.StatusInternalServerError)
			return
		}
		if !c.matchers.Match(r) {
			next.ServeHTTP(w, r)
			return
		}
		p := decide(c, r.Header)
		if !p.delayed && !p.aborted {
			next.ServeHTTP(w, r)
			return
		}
		if c.MaxActiveFaults != nil && f.active.Value() >= int64(*c.MaxActiveFaults) {
			f.overflow.Inc()
			next.ServeHTTP(w, r)
			return
		}
		f.active.Inc()
		defer f.active.Dec()
		if p.delayed {
			f.delays.Inc()
			t := time.NewTimer(p.delay)
			select {
			case <-t.C:
			case <-r.Context().Done(): // the client left during the delay
				t.Stop()
				return
			}
		}
		if !p.aborted {
			next.ServeHTTP(w, r)
			return
		}
		f.aborts.Inc()
		abort(w, p)
	})
}

// decide draws the request's faults from its config and headers.
func decide(c *Config, h http.Header) plan {
	p := plan{grpcStatus: -1}
	if d := c.Delay; d != nil {
		switch {
		case d.HeaderDelay != nil:
			if v, ok := headerDelay(h); ok && headerPercent(h, hdrDelayPercent, d.Percentage).sample() {
				p.delay, p.delayed = v, true
			}
		case d.FixedDelay != nil:
			if headerPercent(h, hdrDelayPercent, d.Percentage).sample() {
				p.delay, p.delayed = time.Duration(*d.FixedDelay), true
			}
		}
	}
	if a := c.Abort; a != nil {
		hs, gs, ok := a.HTTPStatus, -1, true
		switch {
		case a.HeaderAbort != nil:
			hs, gs, ok = headerAbort(h)
		case a.GRPCStatus != nil:
			hs, gs = 0, int(*a.GRPCStatus)
		}
		if ok && headerPercent(h, hdrAbortPercent, a.Percentage).sample() {
			p.httpStatus, p.grpcStatus, p.aborted = hs, gs, true
		}
	}
	return p
}

// abort writes the injected error: an HTTP status with Envoy's body, or a
// gRPC trailers-only response (200, grpc-status in the headers).
func abort(w http.ResponseWriter, p plan) {
	h := w.Header()
	if p.grpcStatus >= 0 {
		h.Set("Content-Type", "application/grpc")
		h.Set("Grpc-Status", strconv.Itoa(p.grpcStatus))
		h.Set("Grpc-Message", abortBody)
		w.WriteHeader(http.StatusOK)
		return
	}
	h.Set("Content-Type", "text/plain")
	h.Set("Content-Length", strconv.Itoa(len(abortBody)))
	w.WriteHeader(p.httpStatus)
	_, _ = w.Write([]byte(abortBody))
}

// configFor picks the route's own config over the filter's.
func (f *Filter) configFor(r *http.Request) (*Config, error) {
	if st := httpfilter.FromContext(r.Context()); st != nil && st.Route != nil {
		for _, key := range []string{Name, EnvoyName} {
			if raw := st.Route.PerFilterConfig(key); raw != nil {
				return f.perRoute.Get(key, raw)
			}
		}
	}
	return f.cfg, nil
}

// fraction is a FractionalPercent ready to sample.
type fraction struct{ num, scale uint32 }

func (f fraction) sample() bool {
	if f.num >= f.scale {
		return true
	}
	return f.num > 0 && rand.Uint32N(f.scale) < f.num
}

var _ httpfilter.Filter = (*Filter)(nil)
