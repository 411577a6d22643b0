package integration

import (
	"context"
	"fmt"
	"github.com/sluice-proxy/sluice/internal/poll"
	"net"
	"os"
	"os/exec"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	kcodec "github.com/sluice-proxy/sluice/codec/kafka"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
)

// envKafkaAddr names an external Kafka broker (docker-compose's kafka
// service: 127.0.0.1:19092); unset, the tests start kfake clusters.
const envKafkaAddr = "SLUICE_TEST_KAFKA_ADDR"

// kafkaBrokers returns the bootstrap addresses of a Kafka cluster of n
// brokers: the external one when configured, else a kfake cluster.
func kafkaBrokers(t *testing.T, n int) []string {
	t.Helper()
	if a := os.Getenv(envKafkaAddr); a != "" {
		return []string{a}
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(n))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()
}

// kafkaRecorder records what a client dialed and, through kgo hooks, the
// requests it wrote and responses it read per API.
type kafkaRecorder struct {
	mu     sync.Mutex
	dialed map[string]bool
	wrote  map[string]uint64
	read   map[string]uint64
}

func newKafkaRecorder() *kafkaRecorder {
	return &kafkaRecorder{dialed: map[string]bool{}, wrote: map[string]uint64{}, read: map[string]uint64{}}
}

func (r *kafkaRecorder) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	r.mu.Lock()
	r.dialed[addr] = true
	r.mu.Unlock()
	return (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, addr)
}

func (r *kafkaRecorder) OnBrokerWrite(_ kgo.BrokerMetadata, key int16, _ int, _, _ time.Duration, err error) {
	if err == nil {
		r.mu.Lock()
		r.wrote[kcodec.ApiName(key)]++
		r.mu.Unlock()
	}
}

func (r *kafkaRecorder) OnBrokerRead(_ kgo.BrokerMetadata, key int16, _ int, _, _ time.Duration, err error) {
	if err == nil {
		r.mu.Lock()
		r.read[kcodec.ApiName(key)]++
		r.mu.Unlock()
	}
}

func (r *kafkaRecorder) snapshot() (dialed []string, wrote, read map[string]uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	wrote, read = map[string]uint64{}, map[string]uint64{}
	for a := range r.dialed {
		dialed = append(dialed, a)
	}
	sort.Strings(dialed)
	for k, v := range r.wrote {
		wrote[k] = v
	}
	for k, v := range r.read {
		read[k] = v
	}
	return dialed, wrote, read
}

// kafkaBrokerConfig has two bootstrap listeners with kafka_broker in
// automatic rewrite mode: "kgo" for franz-go clients, "kafkago" for
// segmentio/kafka-go clients, each with its own stats.
func kafkaBrokerConfig(bootstrap string) string {
	l := func(name string) string {
		return fmt.Sprintf(`
  - name: %[1]s
    address: 127.0.0.1:0
    filters:
      - kafka_broker:
          stat_prefix: it_%[1]s
          broker_address_rewrite: {auto: {bind_host: 127.0.0.1}}
      - tcp_proxy: {stat_prefix: it_%[1]s, cluster: kafka}`, name)
	}
	return "listeners:" + l("kgo") + l("kafkago") + fmt.Sprintf(`
clusters:
  - name: kafka
    type: static
    connect_timeout: 1s
    endpoints: ["%s"]
`, bootstrap)
}

// TestKafkaBrokerClients runs franz-go and kafka-go clients through
// kafka_broker in front of a three-broker cluster: topic creation, produce,
// consume from the beginning, a consumer group of two members. Every client
// may dial only sluice, and the filter's request counts equal the client's.
func TestKafkaBrokerClients(t *testing.T) {
	brokers := kafkaBrokers(t, 3)
	s := sluicetest.Start(t, kafkaBrokerConfig(brokers[0]))
	topic := fmt.Sprintf("it-orders-%d", time.Now().UnixNano())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	rec := newKafkaRecorder()
	opts := []kgo.Opt{kgo.SeedBrokers(s.Addr("kgo")), kgo.Dialer(rec.dial), kgo.WithHooks(rec)}
	admin, err := kgo.NewClient(append(opts, kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, 4, 1
	req.Topics, req.TimeoutMillis = append(req.Topics, rt), 10000
	resp, err := req.RequestWith(ctx, admin)
	if err != nil || resp.Topics[0].ErrorCode != 0 {
		t.Fatalf("create topic: %v %+v", err, resp)
	}

	// Produce 100 records with each client library.
	const n = 100
	for i := 0; i < n; i++ {
		if err := admin.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte(fmt.Sprintf("kgo-%d", i))}).FirstErr(); err != nil {
			t.Fatalf("kgo produce: %v", err)
		}
	}
	kafkaGoRec := newKafkaRecorder()
	tr := &kafkago.Transport{Dial: kafkaGoRec.dial}
	defer tr.CloseIdleConnections() // else they idle for 30s and hold the listeners' drain
	w := &kafkago.Writer{Addr: kafkago.TCP(s.Addr("kafkago")), Topic: topic, Balancer: &kafkago.RoundRobin{},
		BatchSize: 10, BatchTimeout: 5 * time.Millisecond, RequiredAcks: kafkago.RequireAll,
		Transport: tr}
	var msgs []kafkago.Message
	for i := 0; i < n; i++ {
		msgs = append(msgs, kafkago.Message{Value: []byte(fmt.Sprintf("kafka-go-%d", i))})
	}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("kafka-go produce: %v", err)
	}
	w.Close()

	// kafka-go reads partition 0 from the beginning.
	r := kafkago.NewReader(kafkago.ReaderConfig{Brokers: []string{s.Addr("kafkago")}, Topic: topic, Partition: 0,
		MaxWait: 100 * time.Millisecond, Dialer: &kafkago.Dialer{DialFunc: kafkaGoRec.dial, Timeout: 5 * time.Second}})
	m, err := r.ReadMessage(ctx)
	if err != nil || m.Offset != 0 {
		t.Fatalf("kafka-go read: offset %d, %v", m.Offset, err)
	}
	r.Close()

	// A consumer group of two franz-go members reads everything.
	var mu sync.Mutex
	seen := map[string]bool{}
	perMember := make([]int, 2)
	assigned := make([]int, 2)
	var wg sync.WaitGroup
	gctx, gcancel := context.WithCancel(ctx)
	defer gcancel()
	for i := 0; i < 2; i++ {
		member, err := kgo.NewClient(append(opts, kgo.ConsumerGroup("it-group"), kgo.ConsumeTopics(topic),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(200*time.Millisecond), kgo.HeartbeatInterval(50*time.Millisecond),
			kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
				mu.Lock()
				assigned[i] += len(m[topic])
				mu.Unlock()
			}))...)
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer member.Close()
			for gctx.Err() == nil {
				fs := member.PollFetches(gctx)
				fs.EachRecord(func(r *kgo.Record) {
					mu.Lock()
					seen[string(r.Value)] = true
					perMember[i]++
					mu.Unlock()
				})
				member.CommitUncommittedOffsets(gctx)
			}
		}()
	}
	poll.Eventually(t, 30*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		_, wrote, _ := rec.snapshot()
		return len(seen) == 2*n && assigned[0] > 0 && assigned[1] > 0 && wrote["heartbeat"] > 0
	}, "group consumed %v records, per member %v, partitions assigned %v",
		func() any { mu.Lock(); defer mu.Unlock(); return len(seen) }, func() any { return perMember }, func() any { return assigned })
	gcancel()
	wg.Wait()
	admin.Close()

	// Only sluice was dialed: the two bootstrap listeners and per-broker listeners.
	external := map[string]bool{}
	for _, b := range brokers {
		external[b] = true
	}
	for _, rc := range []*kafkaRecorder{rec, kafkaGoRec} {
		dialed, _, _ := rc.snapshot()
		for _, a := range dialed {
			if external[a] {
				t.Errorf("a client dialed broker %s directly", a)
			}
		}
	}
	// franz-go's requests are counted exactly; responses between what it read and sent.
	_, wrote, read := rec.snapshot()
	for _, api := range []string{"api_versions", "metadata", "create_topics", "produce", "fetch", "list_offsets",
		"find_coordinator", "join_group", "sync_group", "heartbeat", "offset_commit", "offset_fetch"} {
		if wrote[api] == 0 {
			t.Errorf("franz-go sent no %s request", api)
		}
	}
	for api, want := range wrote {
		name := "kafka.it_kgo.request." + api + "_request"
		poll.Eventually(t, 5*time.Second, func() bool { return s.Counter(name) == want },
			"%s = %d, client wrote %d", name, func() any { return s.Counter(name) }, want)
		resp := "kafka.it_kgo.response." + api + "_response"
		poll.Eventually(t, 5*time.Second, func() bool { return s.Counter(resp) >= read[api] && s.Counter(resp) <= want },
			"%s = %d, client read %d, wrote %d", resp, func() any { return s.Counter(resp) }, read[api], want)
	}
	// kafka-go has no hooks: its APIs are counted, responses never above requests.
	for _, api := range []string{"api_versions", "metadata", "produce", "fetch", "list_offsets"} {
		q, p := s.Counter("kafka.it_kafkago.request."+api+"_request"), s.Counter("kafka.it_kafkago.response."+api+"_response")
		if q == 0 || p == 0 || p > q {
			t.Errorf("kafka-go %s: %d requests, %d responses", api, q, p)
		}
	}
	for _, c := range []string{"request.unknown", "request.failure", "response.unknown", "response.failure"} {
		for _, p := range []string{"it_kgo", "it_kafkago"} {
			if v := s.Counter("kafka." + p + "." + c); v != 0 {
				t.Errorf("kafka.%s.%s = %d", p, c, v)
			}
		}
	}
}

// TestKafkaMeshClients runs franz-go and kafka-go clients through kafka_mesh
// in front of two clusters (a kfake one for "pay-" topics and, for "log-"
// topics, SLUICE_TEST_KAFKA_ADDR's Kafka or a second kfake): produce to both
// in one request, consume from the beginning, a two-member consumer group.
func TestKafkaMeshClients(t *testing.T) {
	pay := kafkaBrokers(t, 2)
	if os.Getenv(envKafkaAddr) != "" {
		c, err := kfake.NewCluster(kfake.NumBrokers(2))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		pay = c.ListenAddrs()
	}
	logs := kafkaBrokers(t, 1)
	port := freePort(t)
	s := sluicetest.Start(t, meshYAML(port, pay, logs, 2))
	addr := s.Addr("mesh")
	suffix := fmt.Sprint(time.Now().UnixNano())
	payTopic, logTopic := "pay-"+suffix, "log-"+suffix
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	rec := newKafkaRecorder()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.Dialer(rec.dial), kgo.AllowAutoTopicCreation(),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	const n = 50
	var recs []*kgo.Record
	for i := 0; i < n; i++ {
		recs = append(recs, &kgo.Record{Topic: payTopic, Value: []byte(fmt.Sprint("p", i))},
			&kgo.Record{Topic: logTopic, Value: []byte(fmt.Sprint("l", i))})
	}
	var perr error
	for try := 0; try < 50; try++ { // a real Kafka may need a moment for new topics' leaders
		if perr = cl.ProduceSync(ctx, recs...).FirstErr(); perr == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if perr != nil {
		t.Fatalf("produce: %v", perr)
	}

	// kafka-go produces too, and reads the log topic's partition 0 from the start.
	kgRec := newKafkaRecorder()
	tr := &kafkago.Transport{Dial: kgRec.dial}
	defer tr.CloseIdleConnections()
	w := &kafkago.Writer{Addr: kafkago.TCP(addr), Topic: payTopic, Transport: tr, BatchTimeout: 5 * time.Millisecond,
		RequiredAcks: kafkago.RequireAll, Balancer: &kafkago.RoundRobin{}}
	if err := w.WriteMessages(ctx, kafkago.Message{Value: []byte("kafka-go-1")}, kafkago.Message{Value: []byte("kafka-go-2")}); err != nil {
		t.Fatalf("kafka-go produce: %v", err)
	}
	w.Close()
	r := kafkago.NewReader(kafkago.ReaderConfig{Brokers: []string{addr}, Topic: logTopic, Partition: 0,
		MaxWait: 100 * time.Millisecond, Dialer: &kafkago.Dialer{DialFunc: kgRec.dial, Timeout: 5 * time.Second}})
	if m, err := r.ReadMessage(ctx); err != nil || m.Offset != 0 {
		t.Fatalf("kafka-go read: offset %d, %v", m.Offset, err)
	}
	r.Close()

	// Two group members share both topics' partitions: the group is placed
	// by its topics, which must live in one cluster, so it reads one topic.
	var mu sync.Mutex
	seen := map[string]bool{}
	assigned := make([]int, 2)
	gctx, gcancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		m, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.Dialer(rec.dial), kgo.ConsumerGroup("pay-workers-"+suffix),
			kgo.ConsumeTopics(payTopic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
			kgo.HeartbeatInterval(50*time.Millisecond), kgo.FetchMaxWait(200*time.Millisecond),
			kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, p map[string][]int32) {
				mu.Lock()
				assigned[i] += len(p[payTopic])
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
				m.PollFetches(gctx).EachRecord(func(r *kgo.Record) {
					mu.Lock()
					seen[string(r.Value)] = true
					mu.Unlock()
				})
				m.CommitUncommittedOffsets(gctx)
			}
		}()
	}
	poll.Eventually(t, 30*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) == n+2 && assigned[0] > 0 && assigned[1] > 0 &&
			s.Counter("kafka_mesh.mesh.request.heartbeat_request") > 0
	}, "group saw %d records, assigned %v", func() any { mu.Lock(); defer mu.Unlock(); return len(seen) }, func() any { return assigned })
	gcancel()
	wg.Wait()

	for _, rc := range []*kafkaRecorder{rec, kgRec} {
		dialed, _, _ := rc.snapshot()
		for _, a := range dialed {
			if a != addr {
				t.Errorf("a client dialed %s, not the mesh", a)
			}
		}
	}
	_, wrote, _ := rec.snapshot()
	for _, api := range []string{"api_versions", "metadata", "produce", "fetch", "list_offsets", "find_coordinator",
		"join_group", "sync_group", "heartbeat", "offset_fetch", "offset_commit"} {
		if got := s.Counter("kafka_mesh.mesh.request." + api + "_request"); got == 0 || got < wrote[api] {
			t.Errorf("request.%s_request = %d, franz-go alone wrote %d", api, got, wrote[api])
		}
	}
}

// TestKafkaMeshIdempotentProducers produces through kafka_mesh to a topic
// of each of two clusters with idempotent producers: kcat (librdkafka) with
// enable.idempotence=true, and franz-go at its defaults (idempotent). Each
// topic is read back (kcat through the mesh) exactly once and in order, and
// the clusters hold the batches under producer ids they issued, not the
// mesh's.
func TestKafkaMeshIdempotentProducers(t *testing.T) {
	if _, err := exec.LookPath("kcat"); err != nil {
		t.Fatal("kcat is not installed (.ci/deps.sh installs it)")
	}
	pay, logs := kafkaBrokers(t, 2), kafkaBrokers(t, 1)
	port := freePort(t)
	s := sluicetest.Start(t, meshYAML(port, pay, logs, 1))
	addr := s.Addr("mesh")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	suffix := fmt.Sprint(time.Now().UnixNano())
	const n = 200
	lines := func(tag string) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "%s-%d\n", tag, i)
		}
		return b.String()
	}
	kcat := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, "kcat", append([]string{"-b", addr, "-X", "broker.address.family=v4"}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("kcat %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	// kcat: one topic per cluster, with idempotence.
	for _, topic := range []string{"pay-kcat-" + suffix, "log-kcat-" + suffix} {
		kcat(lines("kcat"), "-P", "-t", topic, "-p", "0", "-X", "enable.idempotence=true", "-X", "linger.ms=1",
			"-X", "batch.num.messages=7")
	}
	// franz-go at its defaults: both topics in the same requests.
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for i := 0; i < n; i++ {
		for _, topic := range []string{"pay-kgo-" + suffix, "log-kgo-" + suffix} {
			cl.Produce(ctx, &kgo.Record{Topic: topic, Value: []byte(fmt.Sprintf("kgo-%d", i))}, func(_ *kgo.Record, err error) {
				if err != nil {
					t.Errorf("franz-go produce: %v", err)
				}
			})
		}
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	meshPID, _, err := cl.ProducerID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Counter("kafka_mesh.mesh.request.init_producer_id_request"); got < 2 {
		t.Fatalf("init_producer_id requests: %d, want one per producer at least", got)
	}
	for _, tc := range []struct{ topic, tag string }{
		{"pay-kcat-" + suffix, "kcat"}, {"log-kcat-" + suffix, "kcat"},
		{"pay-kgo-" + suffix, "kgo"}, {"log-kgo-" + suffix, "kgo"},
	} {
		got := kcat("", "-C", "-t", tc.topic, "-o", "beginning", "-e", "-q")
		if want := lines(tc.tag); got != want {
			t.Errorf("%s read back through the mesh:\n%.300s\nwant %d lines %s-0..%s-%d once, in order", tc.topic, got, n, tc.tag, tc.tag, n-1)
		}
		// The batches in the cluster carry a producer id it issued.
		seeds := logs
		if strings.HasPrefix(tc.topic, "pay-") {
			seeds = pay
		}
		direct, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ConsumeTopics(tc.topic),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		if err != nil {
			t.Fatal(err)
		}
		fs := direct.PollFetches(ctx)
		direct.Close()
		if fs.NumRecords() == 0 {
			t.Fatalf("%s: nothing in the cluster: %v", tc.topic, fs.Errors())
		}
		fs.EachRecord(func(r *kgo.Record) {
			if r.ProducerID < 0 || r.ProducerID == meshPID {
				t.Fatalf("%s: record under producer id %d (mesh's %d): not one the cluster issued", tc.topic, r.ProducerID, meshPID)
			}
		})
	}
}

// meshYAML is one kafka_mesh listener at port in front of two clusters:
// topics pay-* go to pay, log-* to logs, each with partitions partitions.
func meshYAML(port string, pay, logs []string, partitions int) string {
	return fmt.Sprintf(`
listeners:
  - name: mesh
    address: 127.0.0.1:%[1]s
    filters:
      - kafka_mesh:
          advertised_host: 127.0.0.1
          advertised_port: %[1]s
          upstream_clusters:
            - {cluster_name: pay, bootstrap_servers: "%[2]s", partition_count: %[4]d}
            - {cluster_name: logs, bootstrap_servers: "%[3]s", partition_count: %[4]d}
          forwarding_rules:
            - {target_cluster: pay, topic_prefix: pay-}
            - {target_cluster: logs, topic_prefix: log-}
`, port, strings.Join(pay, ","), strings.Join(logs, ","), partitions)
}
