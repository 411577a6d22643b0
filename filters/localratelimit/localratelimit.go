// Package localratelimit is the network local_ratelimit filter, after
// Envoy's envoy.filters.network.local_ratelimit: a token bucket of new
// connections per filter chain; a connection that finds no token is closed
// and counted.
//
// The bucket is internal/tokenbucket (Envoy's discrete fill; its package
// doc says why it is not golang.org/x/time/rate), shared with the HTTP
// local_ratelimit filter.
package localratelimit

import (
	"errors"
	"time"

	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/internal/tokenbucket"
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
		b: newBucket(tb.MaxTokens, tb.PerFill(), tb.FillInterval.D(), time.Now())}, nil
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

// bucket is the filter's token bucket (internal/tokenbucket, shared with
// the HTTP local_ratelimit).
type bucket struct{ *tokenbucket.Bucket }

func newBucket(max, perFill uint32, interval time.Duration, now time.Time) bucket {
	return bucket{tokenbucket.New(max, perFill, interval, now)}
}

// take adds the fills due by now and takes one token if there is one.
func (b bucket) take(now time.Time) bool {
	ok, _, _ := b.Take(now)
	return ok
}

var _ filters.ObserverFilter = (*Filter)(nil)
