package localratelimit

import (
	"testing"
	"time"
)

// TestBucket walks Envoy's bucket over given instants: full at start,
// discrete fills of tokens_per_fill per whole interval, capped at max.
func TestBucket(t *testing.T) {
	t0 := time.Unix(1000, 0)
	b := newBucket(3, 2, time.Second, t0)
	steps := []struct {
		at   time.Duration
		want bool
	}{
		{0, true}, {0, true}, {0, true}, {0, false}, // 3 at start
		{999 * time.Millisecond, false},                                // no whole interval yet
		{time.Second, true}, {time.Second, true}, {time.Second, false}, // +2
		{10 * time.Second, true}, {10 * time.Second, true}, {10 * time.Second, true}, {10 * time.Second, false}, // capped at 3
	}
	for i, s := range steps {
		if got := b.take(t0.Add(s.at)); got != s.want {
			t.Fatalf("step %d at %v: took %v, want %v", i, s.at, got, s.want)
		}
	}
}

// FuzzBucket: whatever the instants, the bucket never holds more than max
// and never hands out more than max plus the fills due.
func FuzzBucket(f *testing.F) {
	f.Add(uint32(3), uint32(1), []byte{0, 1, 200, 5})
	f.Fuzz(func(t *testing.T, max, perFill uint32, steps []byte) {
		max, perFill = max%100+1, perFill%10+1
		t0 := time.Unix(0, 0)
		b := newBucket(max, perFill, 50*time.Millisecond, t0)
		now, taken := t0, uint64(0)
		for _, s := range steps {
			now = now.Add(time.Duration(s) * time.Millisecond)
			if b.take(now) {
				taken++
			}
			if b.Tokens() > uint64(max) {
				t.Fatalf("%d tokens, max %d", b.Tokens(), max)
			}
		}
		fills := uint64(now.Sub(t0)/(50*time.Millisecond)) * uint64(perFill)
		if taken > uint64(max)+fills {
			t.Fatalf("took %d, at most %d", taken, uint64(max)+fills)
		}
	})
}
