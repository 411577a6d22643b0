package localratelimit

import (
	"time"

	"github.com/sluice-proxy/sluice/internal/tokenbucket"
)

// bucket is the filter's token bucket (internal/tokenbucket, shared with
// the network local_ratelimit) read against its clock.
type bucket struct {
	b   *tokenbucket.Bucket
	now func() time.Time // time.Now outside tests
}

func newBucket(tb *TokenBucket, now func() time.Time) *bucket {
	return &bucket{b: tokenbucket.New(tb.MaxTokens, tb.PerFill(), tb.FillInterval.D(), now()), now: now}
}

// take consumes a token if one is left: whether it did, the tokens
// remaining and the time until the next fill.
func (b *bucket) take() (ok bool, remaining uint64, reset time.Duration) {
	return b.b.Take(b.now())
}
