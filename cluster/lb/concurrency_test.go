package lb

import (
	"sync"
	"sync/atomic"
	"testing"
)

// Every policy's picker is shared by many goroutines while the Active
// counters move under it; run with -race. Each pick must be a valid index,
// every pick is accounted for, and every host is picked (under contention
// least_request's shards are busy and some picks take the fallback).
func TestConcurrentPick(t *testing.T) {
	const goroutines, picks = 8, 20_000
	for _, name := range Names() {
		for _, ws := range [][]uint32{{1, 1, 1, 1}, {1, 2, 3, 4}} {
			eps := withActive(weighted(ws...), 0, 0, 0, 0)
			pk := mustBuild(t, mustPolicy(t, name, nil), eps)
			var counts [4]atomic.Int64
			var bad atomic.Int64
			var wg sync.WaitGroup
			for g := range goroutines {
				wg.Go(func() {
					for i := range picks {
						h := pk.Pick(splitmix(uint64(g*picks+i)), i%3 != 0)
						if h < 0 || h >= len(eps) {
							bad.Add(1)
							continue
						}
						counts[h].Add(1)
						eps[h].Active.Add(1)
						eps[h].Active.Add(-1)
					}
				})
			}
			wg.Wait()
			if bad.Load() != 0 {
				t.Fatalf("%s %v: %d picks out of range", name, ws, bad.Load())
			}
			var total int64
			for i := range counts {
				total += counts[i].Load()
			}
			if total != goroutines*picks {
				t.Fatalf("%s %v: %d picks counted, want %d", name, ws, total, goroutines*picks)
			}
			for i := range counts {
				if counts[i].Load() == 0 {
					t.Errorf("%s %v: host %d never picked", name, ws, i)
				}
			}
		}
	}
}
