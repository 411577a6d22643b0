package lb

import (
	"fmt"
	"testing"
)

// BenchmarkPick measures one pick per policy for 3 and 100 hosts with
// unequal weights (the expensive path) and, for the policies that branch on
// it, equal weights. It must report 0 allocs/op.
func BenchmarkPick(b *testing.B) {
	for _, name := range Names() {
		for _, n := range []int{3, 100} {
			for _, equal := range []bool{false, true} {
				ws := make([]uint32, n)
				for i := range ws {
					ws[i] = uint32(1 + i%5)
					if equal {
						ws[i] = 1
					}
				}
				kind := "weighted"
				if equal {
					kind = "equal"
				}
				eps := withActive(weighted(ws...), make([]int64, n)...)
				pk := mustBuild(b, mustPolicy(b, name, nil), eps)
				b.Run(fmt.Sprintf("%s/hosts=%d/%s", name, n, kind), func(b *testing.B) {
					b.ReportAllocs()
					var h uint64
					for b.Loop() {
						h += 0x9e3779b97f4a7c15
						pk.Pick(h, true)
					}
				})
			}
		}
	}
}

// BenchmarkPickParallel is the same pick from GOMAXPROCS goroutines, where
// the shared counters (round_robin) and shard locks (least_request) contend.
func BenchmarkPickParallel(b *testing.B) {
	for _, name := range Names() {
		eps := withActive(weighted(1, 2, 3, 4, 5, 1, 2, 3, 4, 5), make([]int64, 10)...)
		pk := mustBuild(b, mustPolicy(b, name, nil), eps)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				var h uint64
				for pb.Next() {
					h += 0x9e3779b97f4a7c15
					pk.Pick(h, true)
				}
			})
		})
	}
}

// BenchmarkBuild measures building a default-sized snapshot of 100 hosts.
func BenchmarkBuild(b *testing.B) {
	ws := make([]uint32, 100)
	for i := range ws {
		ws[i] = uint32(1 + i%5)
	}
	eps := weighted(ws...)
	for _, name := range Names() {
		p := mustPolicy(b, name, nil)
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Build(eps); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
