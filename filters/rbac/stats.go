package rbac

import (
	"strings"

	"github.com/sluice-proxy/sluice/stats"
)

// Stats are the rbac filter's counters with Envoy's names under
// <stat_prefix>.rbac. (shadow ones under <stat_prefix>.rbac.<shadow_rules_stat_prefix>).
// Connection checks and statement checks both count.
type Stats struct {
	Allowed       *stats.Counter
	Denied        *stats.Counter
	ShadowAllowed *stats.Counter
	ShadowDenied  *stats.Counter
	// Logged and NotLogged count LOG-action checks that matched or not.
	Logged    *stats.Counter
	NotLogged *stats.Counter
}

func newStats(root *stats.Scope, prefix, shadowPrefix string) *Stats {
	// Envoy joins the prefix and "rbac." with one dot (statPrefixJoin).
	sc := root.Tagged("envoy_rbac_prefix", strings.TrimSuffix(prefix, ".")).Sub("rbac")
	sh := sc
	if shadowPrefix != "" {
		sh = sc.Tagged("envoy_rbac_shadow_prefix", strings.TrimSuffix(shadowPrefix, "."))
	}
	return &Stats{
		Allowed:       sc.Counter("allowed"),
		Denied:        sc.Counter("denied"),
		ShadowAllowed: sh.Counter("shadow_allowed"),
		ShadowDenied:  sh.Counter("shadow_denied"),
		Logged:        sc.Counter("logged"),
		NotLogged:     sc.Counter("not_logged"),
	}
}
