// Package cors is Envoy's CORS filter (envoy.filters.http.cors): it answers
// preflight requests and adds the access-control-* headers to responses to
// allowed origins, by the CorsPolicy of the request's route.
package cors

import (
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"

	"github.com/sluice-proxy/sluice/config"
	httpfilter "github.com/sluice-proxy/sluice/filters/http"
	"github.com/sluice-proxy/sluice/router"
	"github.com/sluice-proxy/sluice/stats"
)

// Name is the filter's key in http_filters and typed_per_filter_config.
const Name = "cors"

// EnvoyName is Envoy's filter name, also accepted as the
// typed_per_filter_config key.
const EnvoyName = "envoy.filters.http.cors"

func init() {
	httpfilter.Register(httpfilter.Factory{
		Name:      Name,
		NewConfig: func() any { return &Config{} },
		Build: func(_ any, env *httpfilter.Env) (httpfilter.Filter, error) {
			return New(env), nil
		},
	})
}

// Filter is a built cors filter.
type Filter struct {
	policies      httpfilter.PerRoute[*policy]
	log           *slog.Logger
	badRoute      sync.Once
	valid, invald *stats.Counter
}

// New builds the filter; stats are http.<stat_prefix>.cors.*.
func New(env *httpfilter.Env) *Filter {
	sc := env.Stats.Sub("cors")
	f := &Filter{log: env.Log, valid: sc.Counter("origin_valid"), invald: sc.Counter("origin_invalid")}
	f.policies.NewConfig = func() any { return &Policy{} }
	f.policies.Build = func(cfg any) (*policy, error) { return compile(cfg.(*Policy)), nil }
	return f
}

// policy is a compiled Policy.
type policy struct {
	*Policy
	origins         []router.Match
	anyOrigin       bool
	enabled, shadow fraction
}

func compile(p *Policy) *policy {
	c := &policy{Policy: p, enabled: newFraction(p.FilterEnabled, 100), shadow: newFraction(p.ShadowEnabled, 0)}
	for i := range p.AllowOriginStringMatch {
		m := &p.AllowOriginStringMatch[i]
		if m.Exact != nil && *m.Exact == "*" {
			c.anyOrigin = true
		}
		c.origins = append(c.origins, (*router.StringMatcher)(m).Compile())
	}
	return c
}

func (p *policy) allows(origin string) bool {
	if p.anyOrigin {
		return true
	}
	for _, m := range p.origins {
		if m.Match(origin) {
			return true
		}
	}
	return false
}

// Wrap implements httpfilter.Filter.
func (f *Filter) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		p, err := f.policyFor(r)
		if err != nil {
			f.badRoute.Do(func() { f.log.Error("cors: bad per-route policy", "err", err) })
			http.Error(w, "cors: bad per-route policy", http.StatusInternalServerError)
			return
		}
		if p == nil {
			next.ServeHTTP(w, r)
			return
		}
		enforced := p.enabled.sample()
		if !enforced && !p.shadow.sample() {
			next.ServeHTTP(w, r)
			return
		}
		allowed := p.allows(origin)
		if allowed {
			f.valid.Inc()
		} else {
			f.invald.Inc()
		}
		preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
		if !enforced {
			next.ServeHTTP(w, r)
			return
		}
		if !allowed {
			if preflight && p.ForwardNotMatchingPreflights != nil && !*p.ForwardNotMatchingPreflights {
				w.WriteHeader(http.StatusOK)
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		if p.AllowCredentials != nil && *p.AllowCredentials {
			h.Set("Access-Control-Allow-Credentials", "true")
		}
		if preflight {
			setIf(h, "Access-Control-Allow-Methods", p.AllowMethods)
			setIf(h, "Access-Control-Allow-Headers", p.AllowHeaders)
			setIf(h, "Access-Control-Max-Age", p.MaxAge)
			if p.AllowPrivateNetworkAccess != nil && *p.AllowPrivateNetworkAccess &&
				r.Header.Get("Access-Control-Request-Private-Network") == "true" {
				h.Set("Access-Control-Allow-Private-Network", "true")
			}
			w.WriteHeader(http.StatusOK)
			return
		}
		setIf(h, "Access-Control-Expose-Headers", p.ExposeHeaders)
		next.ServeHTTP(w, r)
	})
}

func setIf(h http.Header, k, v string) {
	if v != "" {
		h.Set(k, v)
	}
}

// policyFor returns the route's policy, nil when it has none.
func (f *Filter) policyFor(r *http.Request) (*policy, error) {
	st := httpfilter.FromContext(r.Context())
	if st == nil || st.Route == nil {
		return nil, nil
	}
	for _, key := range []string{Name, EnvoyName} {
		if raw := st.Route.PerFilterConfig(key); raw != nil {
			return f.policies.Get(key, raw)
		}
	}
	return nil, nil
}

// fraction is a RuntimeFractionalPercent ready to sample.
type fraction struct{ num, scale uint32 }

func newFraction(f *config.RuntimeFraction, dflt uint32) fraction {
	if f == nil {
		return fraction{dflt, 100}
	}
	return fraction{f.DefaultValue.Numerator, f.DefaultValue.Scale()}
}

func (f fraction) sample() bool {
	if f.num >= f.scale {
		return true
	}
	return f.num > 0 && rand.Uint32N(f.scale) < f.num
}

var _ httpfilter.Filter = (*Filter)(nil)
