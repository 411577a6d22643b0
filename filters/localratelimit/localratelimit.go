// Package localratelimit is the network local_ratelimit filter, after
// Envoy's envoy.filters.network.local_ratelimit: a token bucket of new
// connections per filter chain; a connection that finds no token is closed
// and counted.
//
// The bucket is hand-written rather than golang.org/x/time/rate: Envoy's
// bucket fills in discrete steps (tokens_per_fill every fill_interval),
// which x/time/rate's continuous refill does not reproduce, and the whole
// of it is a dozen lines under a mutex taken once per new connection.
package localratelimit

import (
	"errors"
	"sync"
	"time"

	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/stats"
)

// Name is the filter's config key.
const Name = "local_ratelimit"

func init() {
	filters.Register(filters.Typed(Name, filters.Observer, NewConfig, New))
}

// Filter is a built local_ratelimit filter; its bucket is shared by the
// connections of its chain.
type Filter struct {
	enabled     bool
	rateLimited *stats.Counter
	b           bucket
}

// New builds the filter from a validated config.
func New(c *Config, env *filters.Env) (*Filter, error) {
	sc := env.Stats.Sub("local_ratelimit").Tagged("envoy_local_ratelimit_prefix", c.StatPrefix)
	tb := c.TokenBucket
	return &Filter{enabled: c.RuntimeEnabled.Enabled(), rateLimited: sc.Counter("rate_limited"),
		b: newBucket(tb.MaxTokens, tb.perFill(), tb.FillInterval.D(), time.Now())}, nil
}

// RateLimited is local_ratelimit.<stat_prefix>.rate_limited.
func (f *Filter) RateLimited() *stats.Counter { return f.rateLimited }

var errRateLimited = errors.New("local_ratelimit: no token for a new connection")

// Observe takes a token for the connection, or refuses it.
func (f *Filter) Observe(s *filters.Session, c filters.Conn) (filters.Conn, error) {
	if !f.enabled || f.b.take(time.Now()) {
		return c, nil
	}
	f.rateLimited.Inc()
	s.UpdateAccess(func(a *filters.AccessRecord) { a.TerminationReason = "local_ratelimit" })
	return nil, errRateLimited
}

// bucket is Envoy's token bucket: full at start, perFill tokens added at
// every whole interval since the last fill, never above max.
type bucket struct {
	mu       sync.Mutex
	tokens   uint32
	max      uint32
	perFill  uint32
	interval time.Duration
	last     time.Time // the last fill instant
}

func newBucket(max, perFill uint32, interval time.Duration, now time.Time) bucket {
	return bucket{tokens: max, max: max, perFill: perFill, interval: interval, last: now}
}

// take refills the bucket for the intervals passed by now and takes one
// token if there is one.
func (b *bucket) take(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if n := now.Sub(b.last) / b.interval; n > 0 {
		add := uint64(n) * uint64(b.perFill)
		b.tokens = uint32(min(uint64(b.max), uint64(b.tokens)+add))
		b.last = b.last.Add(n * b.interval)
	}
	if b.tokens == 0 {
		return false
	}
	b.tokens--
	return true
}

var _ filters.ObserverFilter = (*Filter)(nil)
