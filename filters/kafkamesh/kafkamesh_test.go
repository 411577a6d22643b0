package kafkamesh_test

import (
	"context"
	"fmt"
	"github.com/sluice-proxy/sluice/internal/poll"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

func newCluster(t *testing.T, brokers int) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(brokers))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// meshConfig fronts cluster a (topics "a-*") and b (topics "b-*").
func meshConfig(port int, a, b *kfake.Cluster, extra string) string {
	return fmt.Sprintf(`
listeners:
  - name: mesh
    address: 127.0.0.1:%[1]d
    filters:
      - kafka_mesh:
          advertised_host: 127.0.0.1
          advertised_port: %[1]d
          upstream_clusters:
            - {cluster_name: a, bootstrap_servers: "%[2]s", partition_count: 3}
            - {cluster_name: b, bootstrap_servers: "%[3]s", partition_count: 2}
          forwarding_rules:
            - {target_cluster: a, topic_prefix: a-}
            - {target_cluster: b, topic_prefix: b-}
%[4]s`, port, strings.Join(a.ListenAddrs(), ","), strings.Join(b.ListenAddrs(), ","), extra)
}

// dialLog records the addresses a client dialed.
type dialLog struct {
	mu     sync.Mutex
	dialed map[string]bool
}

func (d *dialLog) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	d.mu.Lock()
	if d.dialed == nil {
		d.dialed = map[string]bool{}
	}
	d.dialed[addr] = true
	d.mu.Unlock()
	return (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, addr)
}

func startMesh(t *testing.T) (s *sluicetest.Sluice, a, b *kfake.Cluster) {
	a, b = newCluster(t, 2), newCluster(t, 1)
	s = sluicetest.Start(t, meshConfig(testenv.FreePort(t), a, b, ""))
	return s, a, b
}

// topicIn reports the partition count of topic in cluster c (0: absent).
func topicIn(t *testing.T, c *kfake.Cluster, topic string) int {
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	req := kmsg.NewPtrMetadataRequest()
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(context.Background(), cl)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Topics[0].ErrorCode != 0 {
		return 0
	}
	return len(resp.Topics[0].Partitions)
}

func TestMeshProduceConsumeTwoClusters(t *testing.T) {
	s, a, b := startMesh(t)
	addr := s.Addr("mesh")
	var dl dialLog
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.Dialer(dl.dial), kgo.AllowAutoTopicCreation(),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	// One Produce call with records of both clusters: split and merged.
	const n = 60
	var recs []*kgo.Record
	for i := 0; i < n; i++ {
		recs = append(recs, &kgo.Record{Topic: "a-orders", Value: []byte(fmt.Sprint("a", i))},
			&kgo.Record{Topic: "b-events", Value: []byte(fmt.Sprint("b", i))})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
	if got := topicIn(t, a, "a-orders"); got != 3 {
		t.Errorf("a-orders in cluster a: %d partitions, want 3 (partition_count)", got)
	}
	if got := topicIn(t, b, "a-orders"); got != 0 {
		t.Errorf("a-orders leaked into cluster b")
	}
	if got := topicIn(t, b, "b-events"); got != 2 {
		t.Errorf("b-events in cluster b: %d partitions, want 2", got)
	}
	// An unrouted topic is refused with UNKNOWN_TOPIC_OR_PARTITION.
	short, cancelShort := context.WithTimeout(ctx, 2*time.Second)
	err = cl.ProduceSync(short, &kgo.Record{Topic: "c-nowhere", Value: []byte("x")}).FirstErr()
	cancelShort()
	if err == nil {
		t.Error("produce to an unrouted topic succeeded")
	}

	// Consume both topics from the beginning.
	cons, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.Dialer(dl.dial), kgo.ConsumeTopics("a-orders", "b-events"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	got := map[string]int{}
	for got["a-orders"]+got["b-events"] < 2*n {
		fs := cons.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %v: %v", got, ctx.Err())
		}
		fs.EachError(func(topic string, p int32, err error) { t.Logf("fetch %s/%d: %v", topic, p, err) })
		fs.EachRecord(func(r *kgo.Record) { got[r.Topic]++ })
	}
	if got["a-orders"] != n || got["b-events"] != n {
		t.Errorf("consumed %v, want %d of each", got, n)
	}
	for a := range dl.dialed {
		if a != addr {
			t.Errorf("client dialed %s, not the mesh", a)
		}
	}
	for _, api := range []string{"api_versions", "metadata", "produce", "fetch", "list_offsets"} {
		if v := s.Counter("kafka_mesh.mesh.request." + api + "_request"); v == 0 {
			t.Errorf("request.%s_request = 0", api)
		}
	}
	if v := s.Counter("kafka_mesh.mesh.request.unrouted_topic"); v == 0 {
		t.Error("request.unrouted_topic = 0")
	}
}

func TestMeshConsumerGroup(t *testing.T) {
	s, _, _ := startMesh(t)
	addr := s.Addr("mesh")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.AllowAutoTopicCreation(), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	const n = 40
	for i := 0; i < n; i++ {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "b-jobs", Value: []byte(fmt.Sprint(i))}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	seen := map[string]bool{}
	assigned := make([]int, 2)
	gctx, gcancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		m, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumerGroup("jobs-workers"), kgo.ConsumeTopics("b-jobs"),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.HeartbeatInterval(50*time.Millisecond),
			kgo.FetchMaxWait(200*time.Millisecond),
			kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, p map[string][]int32) {
				mu.Lock()
				assigned[i] += len(p["b-jobs"])
				mu.Unlock()
			}))
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer m.Close()
			for gctx.Err() == nil {
				fs := m.PollFetches(gctx)
				fs.EachRecord(func(r *kgo.Record) {
					mu.Lock()
					seen[string(r.Value)] = true
					mu.Unlock()
				})
				m.CommitUncommittedOffsets(gctx)
			}
		}()
	}
	poll.Eventually(t, 20*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) == n && assigned[0] > 0 && assigned[1] > 0 &&
			s.Counter("kafka_mesh.mesh.request.heartbeat_request") > 0 && s.Counter("kafka_mesh.mesh.request.offset_commit_request") > 0
	}, "seen %d, assigned %v", func() any { mu.Lock(); defer mu.Unlock(); return len(seen) }, func() any { return assigned })
	gcancel()
	wg.Wait()
	for _, api := range []string{"find_coordinator", "join_group", "sync_group", "heartbeat", "offset_fetch", "offset_commit", "leave_group"} {
		if v := s.Counter("kafka_mesh.mesh.request." + api + "_request"); v == 0 {
			t.Errorf("request.%s_request = 0", api)
		}
	}
	// The committed offsets live in cluster b: a new member resumes there.
	late, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumerGroup("jobs-workers"), kgo.ConsumeTopics("b-jobs"))
	if err != nil {
		t.Fatal(err)
	}
	defer late.Close()
	off := kmsg.NewPtrOffsetFetchRequest()
	off.Group = "jobs-workers"
	resp, err := off.RequestWith(ctx, late)
	if err != nil {
		t.Fatal(err)
	}
	var committed int64
	for _, tp := range resp.Topics {
		for _, p := range tp.Partitions {
			committed += p.Offset
		}
	}
	if resp.ErrorCode != 0 || committed != n {
		t.Errorf("committed offsets sum %d (code %d), want %d", committed, resp.ErrorCode, n)
	}
}

func TestMeshKafkaGo(t *testing.T) {
	s, _, _ := startMesh(t)
	addr := s.Addr("mesh")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var dl dialLog
	tr := &kafkago.Transport{Dial: dl.dial}
	defer tr.CloseIdleConnections()
	w := &kafkago.Writer{Addr: kafkago.TCP(addr), Topic: "a-logs", AllowAutoTopicCreation: true, Transport: tr,
		BatchTimeout: 5 * time.Millisecond, RequiredAcks: kafkago.RequireAll}
	var msgs []kafkago.Message
	for i := 0; i < 30; i++ {
		msgs = append(msgs, kafkago.Message{Value: []byte(fmt.Sprint(i))})
	}
	var err error
	for try := 0; try < 20; try++ { // the first write may race the topic's creation
		if err = w.WriteMessages(ctx, msgs...); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("kafka-go write: %v", err)
	}
	w.Close()
	total := 0
	for p := 0; p < 3; p++ {
		r := kafkago.NewReader(kafkago.ReaderConfig{Brokers: []string{addr}, Topic: "a-logs", Partition: p,
			MaxWait: 100 * time.Millisecond, Dialer: &kafkago.Dialer{DialFunc: dl.dial}})
		for {
			rctx, rcancel := context.WithTimeout(ctx, 500*time.Millisecond)
			_, err := r.ReadMessage(rctx)
			rcancel()
			if err != nil {
				break
			}
			total++
		}
		r.Close()
	}
	if total != 30 {
		t.Errorf("kafka-go read %d messages, want 30", total)
	}
	for a := range dl.dialed {
		if a != addr {
			t.Errorf("kafka-go dialed %s, not the mesh", a)
		}
	}
}
