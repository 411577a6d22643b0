package cluster

import "github.com/sluice-proxy/sluice/config"

// retryBudget is Envoy's circuit_breakers.thresholds.retry_budget: retries
// in flight may be percent of the requests active and pending, and never
// fewer than min.
type retryBudget struct {
	percent float64
	min     int64
}

// Envoy's retry budget defaults.
const (
	defaultBudgetPercent       = 20.0
	defaultMinRetryConcurrency = 3
)

func (b *Breakers) applyBudget(t config.Thresholds) {
	rb := t.RetryBudget
	if rb == nil {
		b.budget.Store(nil)
		return
	}
	bu := &retryBudget{percent: defaultBudgetPercent, min: defaultMinRetryConcurrency}
	if rb.BudgetPercent != nil {
		bu.percent = *rb.BudgetPercent
	}
	if rb.MinRetryConcurrency != nil {
		bu.min = int64(*rb.MinRetryConcurrency)
	}
	b.budget.Store(bu)
}

// TryRetry takes one unit of the retry breaker for a retry about to be
// sent, or counts upstream_rq_retry_overflow and reports false. With a
// retry budget the limit follows the cluster's load: budget_percent of the
// requests in flight and pending, at least min_retry_concurrency (Envoy's
// rule); otherwise it is max_retries. Every true is paired with Release.
func (b *Breakers) TryRetry() bool {
	if bu := b.budget.Load(); bu != nil {
		active := b.Requests.Count() + b.PendingRequests.Count()
		b.Retries.max.Store(max(bu.min, int64(bu.percent*float64(active)/100)))
	}
	return b.Retries.TryAcquire()
}
