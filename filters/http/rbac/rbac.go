// Package httprbac is the rbac HTTP filter, after Envoy's
// envoy.filters.http.rbac: the network rbac filter's policy engine
// (filters/rbac) judging each request, with HTTP permissions (header,
// url_path, :method through header) and principals (header, the JWT
// payload through metadata, the mTLS peer, source addresses). A denied
// request is answered 403 "RBAC: access denied", as Envoy does, and never
// reaches the upstream; shadow rules only count.
package httprbac

import (
	"net/http"

	"github.com/sluice-proxy/sluice/config"
	httpfilter "github.com/sluice-proxy/sluice/filters/http"
	"github.com/sluice-proxy/sluice/filters/rbac"
	"github.com/sluice-proxy/sluice/stats"
)

// Name is the filter's key in http_filters and typed_per_filter_config.
const Name = "rbac"

// Config is Envoy's HTTP RBAC message.
type Config struct {
	// Rules are enforced; nil allows everything.
	Rules *rbac.Rules `yaml:"rules" json:"rules,omitempty"`
	// RulesStatPrefix goes between "rbac." and allowed/denied.
	RulesStatPrefix string      `yaml:"rules_stat_prefix" json:"rules_stat_prefix,omitempty"`
	ShadowRules     *rbac.Rules `yaml:"shadow_rules" json:"shadow_rules,omitempty"`
	// ShadowRulesStatPrefix goes between "rbac." and shadow_allowed/denied.
	ShadowRulesStatPrefix string `yaml:"shadow_rules_stat_prefix" json:"shadow_rules_stat_prefix,omitempty"`
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
	engine                               *rbac.HTTP
	allowed, denied, shAllowed, shDenied *stats.Counter
	logged, notLogged                    *stats.Counter
}

// New builds the filter from a validated config.
func New(c *Config, env *httpfilter.Env) *Filter {
	sc := env.Stats.Sub("rbac")
	return &Filter{
		engine:    rbac.CompileHTTP(c.Rules, c.ShadowRules),
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
		v := f.engine.Check(r)
		if v.Shadowed {
			if v.ShadowAllowed {
				f.shAllowed.Inc()
			} else {
				f.shDenied.Inc()
			}
		}
		if v.Enforced {
			if v.Logged {
				f.logged.Inc()
			}
			if !v.Allowed {
				f.denied.Inc()
				w.Header().Set("Content-Type", "text/plain")
				w.WriteHeader(http.StatusForbidden)
				_, _ = w.Write([]byte("RBAC: access denied"))
				return
			}
			f.allowed.Inc()
		}
		next.ServeHTTP(w, r)
	})
}
