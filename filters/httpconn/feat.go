package httpconn

import (
	"context"
	"sync"

	"github.com/sluice-proxy/sluice/stats"
)

// featStats are the router's http.<prefix>.* counters for retries and
// mirrors (Envoy's router filter stats of those names).
type featStats struct {
	// retryOrShadowAbandoned counts retries and mirrors given up because
	// the request body went over the buffer limit.
	retryOrShadowAbandoned *stats.Counter
	// skippedNotComplete is Envoy's rq_retry_skipped_request_not_complete.
	skippedNotComplete *stats.Counter
	// wsOnNonWSRoute counts upgrades refused by upgrade_configs.
	wsOnNonWSRoute *stats.Counter
	root           *stats.Scope // the server's, for vhost.*
	vcs            sync.Map     // vcKey -> *vcStats

	// shadows are the mirrored requests in flight: fire and forget, but
	// ended and waited for when the filter closes.
	mu         sync.Mutex
	closed     bool
	shadows    sync.WaitGroup
	shadowCtx  context.Context
	endShadows context.CancelFunc
}

func newFeatStats(root, sc *stats.Scope) *featStats {
	ctx, cancel := context.WithCancel(context.Background())
	return &featStats{shadowCtx: ctx, endShadows: cancel,
		retryOrShadowAbandoned: sc.Counter("retry_or_shadow_abandoned"),
		wsOnNonWSRoute:         sc.Counter("downstream_rq_ws_on_non_ws_route"),
		skippedNotComplete:     sc.Counter("rq_retry_skipped_request_not_complete"),
		root:                   root,
	}
}

// startShadow accounts for one more shadow, false once closed.
func (f *featStats) startShadow() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return false
	}
	f.shadows.Add(1)
	return true
}

func (f *featStats) close() {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	f.endShadows()
	f.shadows.Wait()
}
