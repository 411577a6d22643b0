package kafkamesh_test

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// BenchmarkProduce produces batches of 100 records of 1 KiB to two topics in
// two clusters, directly (two clients) and through the mesh (one client; each
// Produce request split in two).
func BenchmarkProduce(b *testing.B) {
	a, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.BlackholeProduce(), kfake.SeedTopics(2, "a-bench"))
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.BlackholeProduce(), kfake.SeedTopics(2, "b-bench"))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	s := sluicetest.Start(b, meshConfig(testenv.FreePort(b), a, c, ""))
	value := make([]byte, 1024)
	batch := func() (as, bs []*kgo.Record) {
		for i := 0; i < 50; i++ {
			as = append(as, &kgo.Record{Topic: "a-bench", Value: value})
			bs = append(bs, &kgo.Record{Topic: "b-bench", Value: value})
		}
		return as, bs
	}
	run := func(b *testing.B, clients ...*kgo.Client) {
		b.SetBytes(100 * 1024)
		b.ReportAllocs()
		ctx := context.Background()
		for b.Loop() {
			as, bs := batch()
			if len(clients) == 1 {
				if err := clients[0].ProduceSync(ctx, append(as, bs...)...).FirstErr(); err != nil {
					b.Fatal(err)
				}
				continue
			}
			done := make(chan error, 2)
			go func() { done <- clients[0].ProduceSync(ctx, as...).FirstErr() }()
			go func() { done <- clients[1].ProduceSync(ctx, bs...).FirstErr() }()
			for i := 0; i < 2; i++ {
				if err := <-done; err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	newClient := func(seed string) *kgo.Client {
		cl, err := kgo.NewClient(kgo.SeedBrokers(seed), kgo.DisableIdempotentWrite())
		if err != nil {
			b.Fatal(err)
		}
		return cl
	}
	b.Run("direct", func(b *testing.B) {
		ca, cb := newClient(a.ListenAddrs()[0]), newClient(c.ListenAddrs()[0])
		defer ca.Close()
		defer cb.Close()
		run(b, ca, cb)
	})
	b.Run("mesh", func(b *testing.B) {
		cl := newClient(s.Addr("mesh"))
		defer cl.Close()
		run(b, cl)
	})
}
