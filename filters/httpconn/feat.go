package httpconn

import (
	"github.com/sluice-proxy/sluice/stats"
)

// featStats are the router's http.<prefix>.* counters for retries and
// mirrors (Envoy's router filter stats of those names).
type featStats struct {
	// retryOrShadowAbandoned counts retries and mirrors given up because
	// the request body went over the buffer limit.
	retryOrShadowAbandoned *stats.Counter
	root                   *stats.Scope
}

func newFeatStats(sc *stats.Scope) *featStats {
	return &featStats{
		retryOrShadowAbandoned: sc.Counter("retry_or_shadow_abandoned"),
		root:                   sc,
	}
}
