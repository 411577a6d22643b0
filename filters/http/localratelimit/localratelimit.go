// Package localratelimit is Envoy's HTTP local rate limit filter
// (envoy.filters.http.local_ratelimit): a token bucket per filter config,
// or per route when the route's typed_per_filter_config carries its own,
// refusing requests with 429 "local_rate_limited" when it is empty.
// Descriptors add buckets for the requests whose route rate_limits
// actions produce their entries.
//
// The bucket is internal/tokenbucket, shared with the network
// local_ratelimit: Envoy adds tokens_per_fill at each fill_interval (not
// golang.org/x/time/rate's continuous refill), and the counts users see in
// x-ratelimit-remaining must match Envoy's.
package localratelimit

import (
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/sluice-proxy/sluice/config"
	httpfilter "github.com/sluice-proxy/sluice/filters/http"
	"github.com/sluice-proxy/sluice/router"
	"github.com/sluice-proxy/sluice/stats"
)

// Name is the filter's key in http_filters and typed_per_filter_config.
const Name = "local_ratelimit"

// EnvoyName is Envoy's filter name, also accepted as the
// typed_per_filter_config key.
const EnvoyName = "envoy.filters.http.local_ratelimit"

func init() {
	httpfilter.Register(httpfilter.Factory{
		Name:      Name,
		NewConfig: func() any { return &Config{} },
		Build: func(cfg any, env *httpfilter.Env) (httpfilter.Filter, error) {
			return New(cfg.(*Config), env), nil
		},
	})
}

// Filter is a built local_ratelimit filter.
type Filter struct {
	global   *limiter
	perRoute httpfilter.PerRoute[*limiter]
	log      *slog.Logger
	badRoute sync.Once
}

// New builds the filter; per-route configs are compiled on first use.
func New(c *Config, env *httpfilter.Env) *Filter {
	root := env.Stats.Store().Root()
	f := &Filter{global: newLimiter(c, root), log: env.Log}
	f.perRoute.NewConfig = func() any { return &Config{} }
	f.perRoute.Build = func(cfg any) (*limiter, error) { return newLimiter(cfg.(*Config), root), nil }
	return f
}

// limiter is one compiled config: its bucket (nil: no limit), its sampling
// fractions and its stats.
type limiter struct {
	cfg                                *Config
	bucket                             *bucket
	descs                              []descBucket
	enabled, enforced                  fraction
	status                             int
	xHeaders                           bool
	cEnabled, cEnforced, cLimited, cOK *stats.Counter
}

func newLimiter(c *Config, root *stats.Scope) *limiter {
	sc := root.Sub(c.StatPrefix).Sub("http_local_rate_limit")
	l := &limiter{
		cfg: c, enabled: newFraction(c.FilterEnabled), enforced: newFraction(c.FilterEnforced),
		status: http.StatusTooManyRequests, xHeaders: c.EnableXRatelimitHeaders == "DRAFT_VERSION_03",
		cEnabled: sc.Counter("enabled"), cEnforced: sc.Counter("enforced"),
		cLimited: sc.Counter("rate_limited"), cOK: sc.Counter("ok"),
	}
	if c.Status != nil {
		l.status = c.Status.Code
	}
	if c.TokenBucket != nil {
		l.bucket = newBucket(c.TokenBucket, time.Now)
	}
	for _, d := range c.Descriptors {
		db := descBucket{b: newBucket(d.TokenBucket, time.Now)}
		for _, e := range d.Entries {
			db.entries = append(db.entries, router.DescriptorEntry{Key: e.Key, Value: e.Value})
		}
		l.descs = append(l.descs, db)
	}
	return l
}

// descBucket is one descriptor's bucket.
type descBucket struct {
	entries []router.DescriptorEntry
	b       *bucket
}

// routeWithLimits is what descriptors need of the matched route.
type routeWithLimits interface {
	HasRateLimits() bool
	RateLimitDescriptors(*http.Request, router.RateLimitRequest) [][]router.DescriptorEntry
	Cluster(*http.Request) string
}

// matched returns the descriptor buckets the request's route descriptors
// select, in the config's order.
func (l *limiter) matched(r *http.Request) []*bucket {
	if len(l.descs) == 0 {
		return nil
	}
	st := httpfilter.FromContext(r.Context())
	if st == nil || st.Route == nil {
		return nil
	}
	rt, ok := st.Route.(routeWithLimits)
	if !ok || !rt.HasRateLimits() {
		return nil
	}
	in := router.RateLimitRequest{Stage: l.cfg.Stage, Cluster: rt.Cluster(r)}
	if st.ClientAddr.IsValid() {
		in.RemoteAddr = st.ClientAddr.String()
	}
	var out []*bucket
	for _, d := range rt.RateLimitDescriptors(r, in) {
		for i := range l.descs {
			if slices.Equal(l.descs[i].entries, d) {
				out = append(out, l.descs[i].b)
			}
		}
	}
	return out
}

// take takes a token from each matched descriptor bucket, then from the
// default one, stopping at the first that is empty (as Envoy). The
// headers' figures are the last bucket's consulted.
func (l *limiter) take(r *http.Request) (consulted, ok bool, limit, remaining uint64, reset time.Duration) {
	bs := l.matched(r)
	if l.bucket != nil {
		bs = append(bs, l.bucket)
	}
	if len(bs) == 0 {
		return false, true, 0, 0, 0
	}
	for _, b := range bs {
		ok, remaining, reset = b.take()
		limit = b.b.Max()
		if !ok {
			return true, false, limit, remaining, reset
		}
	}
	return true, true, limit, remaining, reset
}

// Wrap implements httpfilter.Filter.
func (f *Filter) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l, err := f.limiterFor(r)
		if err != nil {
			// The route table was loaded with a config this filter cannot
			// read: refuse rather than run the route unlimited.
			f.badRoute.Do(func() { f.log.Error("local_ratelimit: bad per-route config", "err", err) })
			http.Error(w, "local_rate_limit: bad per-route config", http.StatusInternalServerError)
			return
		}
		if (l.bucket == nil && len(l.descs) == 0) || !l.enabled.sample() {
			next.ServeHTTP(w, r)
			return
		}
		l.cEnabled.Inc()
		consulted, ok, limit, remaining, reset := l.take(r)
		if !consulted {
			next.ServeHTTP(w, r)
			return
		}
		if l.xHeaders {
			h := w.Header()
			h.Set("X-Ratelimit-Limit", strconv.FormatUint(limit, 10))
			h.Set("X-Ratelimit-Remaining", strconv.FormatUint(remaining, 10))
			h.Set("X-Ratelimit-Reset", strconv.FormatInt(int64((reset+time.Second-1)/time.Second), 10))
		}
		if ok {
			l.cOK.Inc()
			next.ServeHTTP(w, r)
			return
		}
		l.cLimited.Inc()
		if !l.enforced.sample() {
			applyHeaders(r.Header, l.cfg.RequestHeadersToAddWhenNotEnforced)
			next.ServeHTTP(w, r)
			return
		}
		l.cEnforced.Inc()
		if st := httpfilter.FromContext(r.Context()); st != nil {
			st.SetFlag(httpfilter.RateLimited)
		}
		applyHeaders(w.Header(), l.cfg.ResponseHeadersToAdd)
		w.Header().Set("X-Envoy-Ratelimited", "true")
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(l.status)
		_, _ = w.Write([]byte(body))
	})
}

// body is Envoy's local reply for a refused request.
const body = "local_rate_limited"

// limiterFor picks the route's own config over the filter's.
func (f *Filter) limiterFor(r *http.Request) (*limiter, error) {
	st := httpfilter.FromContext(r.Context())
	if st == nil || st.Route == nil {
		return f.global, nil
	}
	for _, key := range []string{Name, EnvoyName} {
		if raw := st.Route.PerFilterConfig(key); raw != nil {
			return f.perRoute.Get(key, raw)
		}
	}
	return f.global, nil
}

// fraction is a compiled RuntimeFractionalPercent; nil means 0%.
type fraction struct{ num, scale uint32 }

func newFraction(f *config.RuntimeFraction) fraction {
	if f == nil {
		return fraction{0, 100}
	}
	return fraction{f.DefaultValue.Numerator, f.DefaultValue.Scale()}
}

func (f fraction) sample() bool {
	if f.num >= f.scale {
		return true
	}
	return f.num > 0 && rand.Uint32N(f.scale) < f.num
}

// applyHeaders applies HeaderValueOptions: append unless told to
// overwrite, as Envoy's append_action says.
func applyHeaders(h http.Header, opts []config.HeaderValueOption) {
	for _, o := range opts {
		k, v := o.Header.Key, o.Header.Value
		if v == "" && !o.KeepEmptyValue {
			continue
		}
		action := o.AppendAction
		if action == "" && o.Append != nil && !*o.Append {
			action = "OVERWRITE_IF_EXISTS_OR_ADD"
		}
		switch action {
		case "ADD_IF_ABSENT":
			if h.Get(k) == "" {
				h.Set(k, v)
			}
		case "OVERWRITE_IF_EXISTS_OR_ADD":
			h.Set(k, v)
		case "OVERWRITE_IF_EXISTS":
			if h.Get(k) != "" {
				h.Set(k, v)
			}
		default:
			h.Add(k, v)
		}
	}
}

var _ httpfilter.Filter = (*Filter)(nil)
