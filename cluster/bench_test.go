package cluster

import (
	"context"
	"testing"

	"github.com/sluice-proxy/sluice/config"
)

func benchCluster(b *testing.B, body string) *Cluster {
	m, _ := testManager(b)
	cfg := clusterCfg(b, `{name: c, endpoints: ["127.0.0.1:1", "127.0.0.2:1", "127.0.0.3:1"], `+body+`}`)
	c := m.newCluster(&cfg)
	c.applyBreakers(&cfg)
	c.setHosts(cfg.Endpoints)
	return c
}

// BenchmarkPick is the data-path host choice: one atomic snapshot load and
// the lb policy's Pick.
func BenchmarkPick(b *testing.B) {
	for _, pol := range []string{"round_robin", "least_request", "maglev"} {
		b.Run(pol, func(b *testing.B) {
			c := benchCluster(b, "lb_policy: "+pol)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if c.Pick(uint64(i), true) == nil {
					b.Fatal("no host")
				}
			}
		})
	}
}

// BenchmarkBreaker is one TryAcquire/Release pair, as Connect and Close do.
func BenchmarkBreaker(b *testing.B) {
	c := benchCluster(b, "circuit_breakers: {thresholds: [{max_connections: 100, track_remaining: true}]}")
	r := &c.Breakers(PriorityDefault).Connections
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if r.TryAcquire() {
				r.Release()
			}
		}
	})
}

// BenchmarkReport is a terminal reporting a success to outlier detection.
func BenchmarkReport(b *testing.B) {
	c := benchCluster(b, "outlier_detection: {consecutive_5xx: 5}")
	h := c.Hosts()[0]
	b.ReportAllocs()
	for b.Loop() {
		h.Report(ExtOriginRequestSuccess)
	}
}

// BenchmarkConnect is Connect+Close against a loopback server: pick, breaker,
// dial and stats (the dial dominates).
func BenchmarkConnect(b *testing.B) {
	srv := newServer(b, ping)
	m, _ := testManager(b)
	cfg := clusterCfg(b, `{name: c, endpoints: ["`+srv.addr+`"]}`)
	m.Apply([]config.Cluster{cfg})
	c := m.Get("c")
	b.ReportAllocs()
	for b.Loop() {
		up, err := c.Connect(context.Background(), 0, false)
		if err != nil {
			b.Fatal(err)
		}
		up.Close()
	}
}
