// Package httprbac is the rbac HTTP filter, after Envoy's
// envoy.filters.http.rbac: the network rbac filter's policy engine
// (filters/rbac) judging each request, with HTTP permissions (header,
// url_path, :method through header) and principals (header, the JWT
// payload through metadata, the mTLS peer, source addresses; remote_ip is
// the trusted client of x-forwarded-for). A denied request is answered 403
// "RBAC: access denied", as Envoy does, and never reaches the upstream;
// shadow rules only count. A route's RBACPerRoute replaces the filter's
// rules, or turns the filter off when it carries none.
package httprbac

import (
	"log/slog"
	"net/http"
	"sync"

	"github.com/sluice-proxy/sluice/config"
	httpfilter "github.com/sluice-proxy/sluice/filters/http"
	"github.com/sluice-proxy/sluice/filters/rbac"
	"github.com/sluice-proxy/sluice/stats"
)

// Name is the filter's key in http_filters and typed_per_filter_config.
const Name = "rbac"

// EnvoyName is Envoy's filter name, also a typed_per_filter_config key.
const EnvoyName = "envoy.filters.http.rbac"

// Config is Envoy's HTTP RBAC message.
type Config struct {
	// Rules are enforced; nil allows everything.
	Rules *rbac.Rules `yaml:"rules" json:"rules,omitempty"`
	// RulesStatPrefix goes between "rbac." and allowed/denied.
	RulesStatPrefix string      `yaml:"rules_stat_prefix" json:"rules_stat_prefix,omitempty"`
	ShadowRules     *rbac.Rules `yaml:"shadow_rules" json:"shadow_rules,omitempty"`
	// ShadowRulesStatPrefix goes between "rbac." and shadow_allowed/denied.
	ShadowRulesStatPrefix string `yaml:"shadow_rules_stat_prefix" json:"shadow_rules_stat_prefix,omitempty"`
	// TrackPerRuleStats adds rbac.<prefix>policy.<name>.allowed|denied
	// (and shadow_allowed|shadow_denied) for the policy that decided.
	TrackPerRuleStats bool `yaml:"track_per_rule_stats" json:"track_per_rule_stats,omitempty"`
}

// PerRoute is Envoy's RBACPerRoute: the route's own RBAC, or none (the
// filter is off for the route).
type PerRoute struct {
	RBAC *Config `yaml:"rbac" json:"rbac,omitempty"`
}

// Validate checks the config.
func (c *Config) Validate(path string, errs *config.Errors) {
	c.Rules.ValidateHTTP(config.Join(path, "rules"), errs)
	c.ShadowRules.ValidateHTTP(config.Join(path, "shadow_rules"), errs)
}

func init() {
	httpfilter.Register(httpfilter.Factory{
		Name:      Name,
		NewConfig: func() any { return &Config{} },
		Build:     func(cfg any, env *httpfilter.Env) (httpfilter.Filter, error) { return New(cfg.(*Config), env), nil },
	})
}

// Filter is a built rbac HTTP filter.
type Filter struct {
	global   *checker
	perRoute httpfilter.PerRoute[*checker]
	log      *slog.Logger
	badRoute sync.Once
}

// checker is one compiled config with its counters; nil allows all.
type checker struct {
	engine                               *rbac.HTTP
	cfg                                  *Config
	sc                                   *stats.Scope
	allowed, denied, shAllowed, shDenied *stats.Counter
	logged, notLogged                    *stats.Counter
}

// New builds the filter from a validated config.
func New(c *Config, env *httpfilter.Env) *Filter {
	sc := env.Stats.Sub("rbac")
	f := &Filter{global: newChecker(c, sc), log: env.Log}
	if f.log == nil {
		f.log = slog.Default()
	}
	f.perRoute.NewConfig = func() any { return &PerRoute{} }
	f.perRoute.Build = func(cfg any) (*checker, error) {
		pr := cfg.(*PerRoute)
		if pr.RBAC == nil {
			return nil, nil
		}
		return newChecker(pr.RBAC, sc), nil
	}
	return f
}

func newChecker(c *Config, sc *stats.Scope) *checker {
	return &checker{
		engine: rbac.CompileHTTP(c.Rules, c.ShadowRules), cfg: c, sc: sc,
		allowed:   sc.Counter(c.RulesStatPrefix + "allowed"),
		denied:    sc.Counter(c.RulesStatPrefix + "denied"),
		shAllowed: sc.Counter(c.ShadowRulesStatPrefix + "shadow_allowed"),
		shDenied:  sc.Counter(c.ShadowRulesStatPrefix + "shadow_denied"),
		logged:    sc.Counter(c.RulesStatPrefix + "logged"),
		notLogged: sc.Counter(c.RulesStatPrefix + "not_logged"),
	}
}

// Wrap judges each request before next.
func (f *Filter) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := f.checkerFor(r)
		if err != nil {
			f.badRoute.Do(func() { f.log.Error("rbac: bad per-route config", "err", err) })
			http.Error(w, "rbac: bad per-route config", http.StatusInternalServerError)
			return
		}
		if c != nil && !c.allow(r) {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte("RBAC: access denied"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// allow judges r and counts the verdict.
func (c *checker) allow(r *http.Request) bool {
	v := c.engine.Check(r)
	if v.Shadowed {
		name := "shadow_denied"
		if v.ShadowAllowed {
			name = "shadow_allowed"
			c.shAllowed.Inc()
		} else {
			c.shDenied.Inc()
		}
		if c.cfg.TrackPerRuleStats && v.ShadowPolicy != "" {
			c.sc.Counter(c.cfg.ShadowRulesStatPrefix + "policy." + v.ShadowPolicy + "." + name).Inc()
		}
	}
	if !v.Enforced {
		return true
	}
	if v.Logged {
		c.logged.Inc()
	}
	name := "allowed"
	if v.Allowed {
		c.allowed.Inc()
	} else {
		name = "denied"
		c.denied.Inc()
	}
	if c.cfg.TrackPerRuleStats && v.Policy != "" {
		c.sc.Counter(c.cfg.RulesStatPrefix + "policy." + v.Policy + "." + name).Inc()
	}
	return v.Allowed
}

// checkerFor picks the route's RBACPerRoute over the filter's config.
func (f *Filter) checkerFor(r *http.Request) (*checker, error) {
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
