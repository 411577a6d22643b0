package localratelimit

import (
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/config"
)

// fakeClock is a manual clock: the bucket's arithmetic is tested without
// waiting on real time.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestBucketDiscreteFill(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	per := uint32(2)
	b := newBucket(&TokenBucket{MaxTokens: 3, TokensPerFill: &per, FillInterval: config.Duration(time.Second)}, clk.now)
	take := func(want bool, wantLeft uint64) {
		t.Helper()
		ok, left, _ := b.take()
		if ok != want || left != wantLeft {
			t.Fatalf("take: ok=%v left=%d, want ok=%v left=%d", ok, left, want, wantLeft)
		}
	}
	take(true, 2)
	take(true, 1)
	take(true, 0)
	take(false, 0)
	// Just before the fill nothing comes back: fills are discrete.
	clk.t = clk.t.Add(999 * time.Millisecond)
	take(false, 0)
	if _, _, reset := b.take(); reset != time.Millisecond {
		t.Fatalf("reset %v, want 1ms", reset)
	}
	clk.t = clk.t.Add(time.Millisecond) // one fill: 2 tokens
	take(true, 1)
	take(true, 0)
	take(false, 0)
	// A long idle fills to max, never past it.
	clk.t = clk.t.Add(1000 * time.Hour)
	take(true, 2)
}

// BenchmarkBucketTake is the bucket's cost per request, contended.
func BenchmarkBucketTake(b *testing.B) {
	bk := newBucket(&TokenBucket{MaxTokens: 1 << 31, FillInterval: config.Duration(time.Second)}, time.Now)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			bk.take()
		}
	})
}
