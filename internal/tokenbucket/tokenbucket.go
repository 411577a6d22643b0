// Package tokenbucket is Envoy's token bucket (envoy.type.v3.TokenBucket),
// shared by the network and HTTP local_ratelimit filters.
//
// It is hand-written rather than golang.org/x/time/rate because Envoy's
// bucket fills in discrete steps (tokens_per_fill every fill_interval, full
// at start), where x/time/rate refills continuously. Envoy refills with a
// timer per bucket; here the fills due are counted when the bucket is next
// touched, which gives the same token counts without a goroutine or timer.
package tokenbucket

import (
	"sync"
	"time"
)

// Bucket is safe for concurrent use.
type Bucket struct {
	max, perFill uint64
	interval     time.Duration

	mu       sync.Mutex
	tokens   uint64
	lastFill time.Time // the last fill due (start + k*interval)
}

// New returns a full bucket of max tokens that gains perFill tokens at
// every whole interval after start.
func New(max, perFill uint32, interval time.Duration, start time.Time) *Bucket {
	return &Bucket{max: uint64(max), perFill: uint64(perFill), interval: interval,
		tokens: uint64(max), lastFill: start}
}

// Take adds the fills due by now and consumes a token if one is left. It
// returns whether it did, the tokens remaining and the time until the next
// fill.
func (b *Bucket) Take(now time.Time) (ok bool, remaining uint64, reset time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
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

// Max is the bucket's size (x-ratelimit-limit).
func (b *Bucket) Max() uint64 { return b.max }

// Tokens is what the bucket holds now, without the fills due since its
// last Take.
func (b *Bucket) Tokens() uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.tokens
}
