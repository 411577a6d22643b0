package localratelimit

import (
	"sync"
	"time"
)

// bucket is a token bucket with Envoy's discrete fill: tokensPerFill tokens
// are added at each whole fillInterval since the start, up to maxTokens,
// rather than continuously. Envoy does this with a timer per bucket; here
// the fills due are counted when the bucket is next touched, which gives
// the same token counts without a goroutine or timer to stop.
type bucket struct {
	max, perFill uint64
	interval     time.Duration
	now          func() time.Time // time.Now outside tests

	mu       sync.Mutex
	tokens   uint64
	lastFill time.Time // the time of the last fill due (start + k*interval)
}

func newBucket(tb *TokenBucket, now func() time.Time) *bucket {
	perFill := uint64(1)
	if tb.TokensPerFill != nil {
		perFill = uint64(*tb.TokensPerFill)
	}
	return &bucket{
		max: uint64(tb.MaxTokens), perFill: perFill, interval: time.Duration(tb.FillInterval),
		now: now, tokens: uint64(tb.MaxTokens), lastFill: now(),
	}
}

// take consumes a token if one is left. It returns whether it did, the
// tokens remaining and the time until the next fill.
func (b *bucket) take() (ok bool, remaining uint64, reset time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if fills := uint64(now.Sub(b.lastFill) / b.interval); fills > 0 {
		b.lastFill = b.lastFill.Add(time.Duration(fills) * b.interval)
		// Cap before multiplying: fills can be huge after a long idle.
		if fills >= b.max/b.perFill+1 {
			b.tokens = b.max
		} else {
			b.tokens = min(b.max, b.tokens+fills*b.perFill)
		}
	}
	if b.tokens > 0 {
		b.tokens--
		ok = true
	}
	return ok, b.tokens, b.lastFill.Add(b.interval).Sub(now)
}
