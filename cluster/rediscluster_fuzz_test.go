package cluster

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"testing"

	"github.com/sluice-proxy/sluice/codec/redis"
	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/stats"
)

// FuzzRedisClusterSlots feeds arbitrary node bytes to redis_cluster
// discovery (reading the reply, parsing CLUSTER SLOTS, publishing hosts and
// the slot map): it must never panic, and a published map must only name
// hosts of the cluster. Seeded with a CLUSTER SLOTS reply captured from a
// Redis 7.0 cluster (testdata/cluster_slots.resp).
func FuzzRedisClusterSlots(f *testing.F) {
	capture, err := os.ReadFile("testdata/cluster_slots.resp")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(capture)
	f.Add(append([]byte("+OK\r\n"), capture...))
	f.Add([]byte("-ERR This instance has cluster support disabled\r\n"))
	m := NewManager(stats.New().Root(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	f.Fuzz(func(t *testing.T, data []byte) {
		replies, err := readReplies(bytes.NewReader(data), 1)
		if err != nil {
			return
		}
		ranges, err := redis.ParseClusterSlots(replies[0])
		if err != nil || len(ranges) == 0 {
			return
		}
		c := m.newCluster(&config.Cluster{Name: "f", Type: "redis_cluster"})
		c.publishSlots("127.0.0.1:7000", ranges)
		slots := c.RedisSlots()
		for _, sh := range slots.Shards() {
			for _, h := range append([]*Host{sh.Master}, sh.Replicas...) {
				if h != nil && h.Cluster() != c {
					t.Fatalf("shard host %s is not the cluster's", h.Address())
				}
			}
		}
		for s := 0; s < redis.SlotCount; s += 997 {
			slots.Shard(s)
		}
	})
}
