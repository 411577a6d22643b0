package cluster

import (
	"errors"
	"strings"
	"sync/atomic"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/stats"
)

// ErrOverflow is returned when a circuit breaker refuses a connection.
var ErrOverflow = errors.New("upstream circuit breaker open")

// Resource is one circuit-breaker limit (connections, pending requests,
// requests or retries) of one priority. TryAcquire and Release never block;
// they are a few atomic operations.
type Resource struct {
	max      atomic.Int64
	cur      atomic.Int64
	track    atomic.Bool
	open     *stats.Gauge
	remain   *stats.Gauge
	overflow *stats.Counter
}

// TryAcquire takes one unit and reports true, or counts an overflow and
// reports false when the limit is reached. Every true must be paired with
// one Release.
func (r *Resource) TryAcquire() bool {
	for {
		cur, limit := r.cur.Load(), r.max.Load()
		if cur >= limit {
			r.overflow.Inc()
			r.publish(cur, limit)
			return false
		}
		if r.cur.CompareAndSwap(cur, cur+1) {
			r.publish(cur+1, limit)
			return true
		}
	}
}

// Release returns one unit taken by TryAcquire.
func (r *Resource) Release() {
	r.publish(r.cur.Add(-1), r.max.Load())
}

// Count is the number of units in use.
func (r *Resource) Count() int64 { return r.cur.Load() }

// Max is the limit.
func (r *Resource) Max() int64 { return r.max.Load() }

// publish keeps the open (0/1) and remaining gauges in step.
func (r *Resource) publish(cur, limit int64) {
	open := int64(0)
	if cur >= limit {
		open = 1
	}
	if r.open.Value() != open {
		r.open.Set(open)
	}
	if r.track.Load() {
		r.remain.Set(max(limit-cur, 0))
	}
}

// setMax applies a new limit (on reload); units in use are kept.
func (r *Resource) setMax(limit uint32, track bool) {
	r.max.Store(int64(limit))
	r.track.Store(track)
	r.publish(r.cur.Load(), int64(limit))
}

// Breakers are a cluster's circuit breakers of one priority, shared by every
// terminal and pool using the cluster.
type Breakers struct {
	// Connections is max_connections; Connect and Dial hold one unit per
	// open connection (upstream_cx_overflow).
	Connections Resource
	// PendingRequests is max_pending_requests, for requests waiting for a
	// pooled connection (upstream_rq_pending_overflow).
	PendingRequests Resource
	// Requests is max_requests, for requests in flight
	// (upstream_rq_pending_overflow, as Envoy counts it).
	Requests Resource
	// Retries is max_retries, for retries in flight (upstream_rq_retry_overflow).
	Retries Resource
	// budget, when set, replaces Retries' limit (retrybudget.go).
	budget atomic.Pointer[retryBudget]
}

// newBreakers resolves the stats of priority prio ("default" or "high").
func newBreakers(sc *stats.Scope, prio string) *Breakers {
	cb := sc.Sub("circuit_breakers").Sub(prio)
	b := &Breakers{}
	set := func(r *Resource, open, remain, overflow string) {
		r.open, r.remain, r.overflow = cb.Gauge(open), cb.Gauge(remain), sc.Counter(overflow)
	}
	set(&b.Connections, "cx_open", "remaining_cx", "upstream_cx_overflow")
	set(&b.PendingRequests, "rq_pending_open", "remaining_pending", "upstream_rq_pending_overflow")
	set(&b.Requests, "rq_open", "remaining_rq", "upstream_rq_pending_overflow")
	set(&b.Retries, "rq_retry_open", "remaining_retries", "upstream_rq_retry_overflow")
	return b
}

// apply sets the limits from t.
func (b *Breakers) apply(t config.Thresholds) {
	b.Connections.setMax(t.MaxConnections, t.TrackRemaining)
	b.PendingRequests.setMax(t.MaxPendingRequests, t.TrackRemaining)
	b.Requests.setMax(t.MaxRequests, t.TrackRemaining)
	b.Retries.setMax(t.MaxRetries, t.TrackRemaining)
	b.applyBudget(t)
}

// Priority is a routing priority with its own breakers, as in Envoy.
type Priority uint8

const (
	// PriorityDefault is the priority of ordinary traffic.
	PriorityDefault Priority = iota
	// PriorityHigh is Envoy's HIGH routing priority.
	PriorityHigh
)

// String is Envoy's config name of the priority.
func (p Priority) String() string {
	if p == PriorityHigh {
		return "HIGH"
	}
	return "DEFAULT"
}

// Breakers returns the cluster's circuit breakers of priority p.
func (c *Cluster) Breakers(p Priority) *Breakers {
	if p == PriorityHigh {
		return c.breakers[1]
	}
	return c.breakers[0]
}

// applyBreakers sets every priority's limits from cfg.
func (c *Cluster) applyBreakers(cfg *config.Cluster) {
	for i, p := range []Priority{PriorityDefault, PriorityHigh} {
		c.breakers[i].apply(cfg.CircuitBreakers.For(p.String()))
	}
}

// breakerScopeName is the stat component of priority p.
func breakerScopeName(p Priority) string { return strings.ToLower(p.String()) }
