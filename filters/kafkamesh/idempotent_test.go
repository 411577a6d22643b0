package kafkamesh_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestMeshIdempotentProduce produces with franz-go at its defaults
// (idempotent, five requests in flight per broker) to a topic of each
// cluster in the same requests, while both clusters answer some Produce
// requests with REQUEST_TIMED_OUT after appending them (kfake applies the
// batch, as a real broker whose replication timed out does). The client
// retries those batches with the same sequence numbers: each cluster must
// see them under the producer id it issued, or it would append them again
// (or refuse the mesh's id). Reading every partition back through the mesh
// finds each record exactly once, in the order produced, in batches of an
// idempotent producer.
func TestMeshIdempotentProduce(t *testing.T) {
	s, a, b := startMesh(t)
	addr := s.Addr("mesh")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	parts := map[string]int32{"a-idem": 3, "b-idem": 2} // partition_count of clusters a and b
	var faults []*kfake.FaultHandle
	for c, topic := range map[*kfake.Cluster]string{a: "a-idem", b: "b-idem"} {
		if err := c.CreateTopic(topic, parts[topic], nil); err != nil {
			t.Fatal(err)
		}
		faults = append(faults, c.Fault(kfake.Fault{Keys: []kmsg.Key{kmsg.Produce}, Topic: topic,
			Err: kerr.RequestTimedOut, Count: 4}))
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerLinger(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	const n = 300
	errs := make(chan error, 2*n)
	for i := 0; i < n; i++ {
		for topic, np := range parts {
			r := &kgo.Record{Topic: topic, Partition: int32(i) % np, Value: []byte(strconv.Itoa(i))}
			cl.Produce(ctx, r, func(_ *kgo.Record, err error) {
				if err != nil {
					errs <- err
				}
			})
		}
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	close(errs)
	for err := range errs {
		t.Fatalf("produce: %v", err)
	}
	for i, f := range faults {
		if f.Hits() == 0 {
			t.Fatalf("fault %d never hit: the test proves nothing", i)
		}
	}
	if v := s.Counter("kafka_mesh.mesh.request.init_producer_id_request"); v == 0 {
		t.Fatal("the client never asked the mesh for a producer id (produced without idempotence)")
	}
	meshPID, _, err := cl.ProducerID(ctx)
	if err != nil || meshPID < 0 {
		t.Fatalf("client's producer id %d: %v", meshPID, err)
	}

	cons, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics("a-idem", "b-idem"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	type tp struct {
		topic string
		p     int32
	}
	got := map[tp][]int{}
	pids := map[string]map[int64]bool{}
	total := 0
	// Read until both topics' high watermarks are reached; duplicates would
	// show as more than n records per topic.
	deadline := time.Now().Add(5 * time.Second)
	for total < 2*n || time.Now().Before(deadline) {
		fctx, fcancel := context.WithTimeout(ctx, 300*time.Millisecond)
		fs := cons.PollFetches(fctx)
		fcancel()
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d: %v", total, 2*n, ctx.Err())
		}
		fs.EachRecord(func(r *kgo.Record) {
			v, _ := strconv.Atoi(string(r.Value))
			got[tp{r.Topic, r.Partition}] = append(got[tp{r.Topic, r.Partition}], v)
			if pids[r.Topic] == nil {
				pids[r.Topic] = map[int64]bool{}
			}
			pids[r.Topic][r.ProducerID] = true
			total++
		})
		if total >= 2*n && fs.NumRecords() == 0 {
			break
		}
	}
	for topic, np := range parts {
		for p := int32(0); p < np; p++ {
			var want []string
			for i := int(p); i < n; i += int(np) {
				want = append(want, strconv.Itoa(i))
			}
			var have []string
			for _, v := range got[tp{topic, p}] {
				have = append(have, strconv.Itoa(v))
			}
			if strings.Join(have, ",") != strings.Join(want, ",") {
				t.Errorf("%s/%d: read %d records %v, want exactly once in order %v", topic, p, len(have), have, want)
			}
		}
		for pid := range pids[topic] {
			switch pid {
			case -1:
				t.Errorf("%s: a batch without producer id: produced without idempotence", topic)
			case meshPID:
				t.Errorf("%s: stored under the mesh's producer id %d, not one its cluster issued", topic, pid)
			}
		}
		if len(pids[topic]) != 1 {
			t.Errorf("%s: producer ids %v, want the one its cluster issued", topic, pids[topic])
		}
	}
}
