// Package rbac is the rbac network filter, after Envoy's network RBAC: named
// policies of permissions (destination port and IP, SNI, and sluice's SQL
// permission) and principals (source CIDR, TLS client certificate, any,
// and/or/not), with ALLOW, DENY or LOG actions and shadow rules that only
// count.
//
// Connection-level facts are checked when the connection is observed: a
// refused connection is closed. When a policy uses a sql permission, the
// filter also registers itself as the session's filters.SQLGate, and SQL
// observers (mysql_proxy, postgres_proxy) ask it about every statement: a
// refused statement is answered with the protocol's error naming the policy
// (on_sql_deny: error) or ends the connection (close).
//
// A SQL permission is unknown at connect time, so a connection check never
// refuses on one (DENY) nor lets every other policy's failure refuse the
// connection (ALLOW) because of one; statement checks know everything.
package rbac

import (
	"fmt"

	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/sqlmeta"
)

// Name is the filter's config key.
const Name = "rbac"

func init() {
	filters.Register(filters.Typed(Name, filters.Observer, NewConfig, func(c *Config, env *filters.Env) (*Filter, error) { return New(c, env), nil }))
}

// Filter is a built rbac filter, shared by the connections of its chain.
type Filter struct {
	cfg     *Config
	stats   *Stats
	rules   *engine // nil: allow everything
	shadow  *engine
	sqlGate bool // some policy uses a sql permission
	reqGate bool // some policy uses a zookeeper or metadata permission
}

// New builds the filter from a validated config.
func New(cfg *Config, env *filters.Env) *Filter {
	f := &Filter{cfg: cfg, stats: newStats(env.Stats, cfg.StatPrefix, cfg.ShadowRulesStatPrefix)}
	var sqlA, sqlB bool
	f.rules, sqlA = newEngine(cfg.Rules)
	f.shadow, sqlB = newEngine(cfg.ShadowRules)
	f.sqlGate = sqlA || sqlB
	f.reqGate = usesRequests(cfg.Rules) || usesRequests(cfg.ShadowRules)
	return f
}

// Stats returns the filter's stat handles.
func (f *Filter) Stats() *Stats { return f.stats }

// Observe checks the connection; a refused one is closed with the matched
// policy in the access record.
func (f *Filter) Observe(s *filters.Session, c filters.Conn) (filters.Conn, error) {
	fa := &facts{s: s}
	f.checkShadow(fa)
	if ok, pol := f.check(s, fa); !ok {
		s.UpdateAccess(func(a *filters.AccessRecord) {
			a.TerminationReason = "rbac_access_denied_matched_policy[" + pol + "]"
		})
		return nil, fmt.Errorf("rbac: connection denied (policy %q)", pol)
	}
	if f.sqlGate {
		s.AddSQLGate(f)
	}
	if f.reqGate {
		s.AddRequestGate(f)
	}
	return c, nil
}

// CheckSQL checks each statement; the first refused one decides.
func (f *Filter) CheckSQL(s *filters.Session, stmts []sqlmeta.Statement) filters.SQLVerdict {
	for i := range stmts {
		fa := &facts{s: s, stmt: &stmts[i]}
		f.checkShadow(fa)
		if ok, pol := f.check(s, fa); !ok {
			if f.cfg.OnSQLDeny == "close" {
				return filters.SQLVerdict{Close: true, Policy: pol}
			}
			return filters.SQLVerdict{Deny: true, Policy: pol}
		}
	}
	return filters.SQLVerdict{}
}

// check runs the enforced rules, counts, and records the matched policy.
func (f *Filter) check(s *filters.Session, fa *facts) (bool, string) {
	if f.rules == nil {
		f.stats.Allowed.Inc()
		return true, ""
	}
	d := f.rules.decide(fa)
	if d.policy != "" {
		record(s, d.policy)
	}
	switch {
	case f.rules.action == "LOG":
		if d.matched {
			f.stats.Logged.Inc()
		} else {
			f.stats.NotLogged.Inc()
		}
		f.stats.Allowed.Inc()
	case d.allowed:
		f.stats.Allowed.Inc()
	default:
		f.stats.Denied.Inc()
		if d.policy == "" {
			return false, "none"
		}
	}
	return d.allowed, d.policy
}

func (f *Filter) checkShadow(fa *facts) {
	if f.shadow == nil {
		return
	}
	if f.shadow.decide(fa).allowed {
		f.stats.ShadowAllowed.Inc()
	} else {
		f.stats.ShadowDenied.Inc()
	}
}

// record puts the matched policy in the access log record.
func record(s *filters.Session, policy string) {
	s.UpdateAccess(func(a *filters.AccessRecord) {
		if a.Fields == nil {
			a.Fields = make(map[string]any)
		}
		a.Fields["rbac_policy"] = policy
	})
}

var (
	_ filters.ObserverFilter = (*Filter)(nil)
	_ filters.SQLGate        = (*Filter)(nil)
	_ filters.RequestGate    = (*Filter)(nil)
)
