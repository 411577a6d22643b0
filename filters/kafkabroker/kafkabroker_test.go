package kafkabroker_test

import (
	"context"
	"fmt"
	"github.com/sluice-proxy/sluice/internal/poll"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// brokerConfig is one listener with kafka_broker (extra config in extra)
// and tcp_proxy to upstream.
func brokerConfig(prefix, upstream, extra string, port int) string {
	return fmt.Sprintf(`
listeners:
  - name: kafka
    address: 127.0.0.1:%[4]d
    filters:
      - kafka_broker: {stat_prefix: %[1]s%[3]s}
      - tcp_proxy: {stat_prefix: %[1]s, cluster: kafka}
clusters:
  - name: kafka
    type: static
    connect_timeout: 1s
    endpoints: ["%[2]s"]
`, prefix, upstream, extra, port)
}

// produceConsume produces n records to topic through cl and consumes them
// back from the beginning with a second client built from opts.
func produceConsume(t *testing.T, cl *kgo.Client, topic string, n int, opts ...kgo.Opt) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i := 0; i < n; i++ {
		r := &kgo.Record{Topic: topic, Key: []byte(fmt.Sprint(i)), Value: []byte(strings.Repeat("v", 100))}
		cl.Produce(ctx, r, func(_ *kgo.Record, err error) {
			if err != nil {
				t.Errorf("produce: %v", err)
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	cons, err := kgo.NewClient(append(opts, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	got := 0
	for got < n {
		fs := cons.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of %d: %v", got, n, err)
		}
		fs.EachError(func(_ string, _ int32, err error) { t.Errorf("fetch: %v", err) })
		got += fs.NumRecords()
	}
}

// assertStats checks that every API the clients used was counted by the
// filter, requests exactly, responses between what the clients read and
// what they sent.
func assertStats(t *testing.T, s *sluicetest.Sluice, prefix string, log *clientLog) {
	t.Helper()
	wrote, _ := log.counts()
	t.Logf("client wrote %v", wrote)
	if len(wrote) == 0 {
		t.Fatal("the clients wrote nothing")
	}
	for api, n := range wrote {
		name := fmt.Sprintf("kafka.%s.request.%s_request", prefix, api)
		poll.Eventually(t, 5*time.Second, func() bool { return s.Counter(name) == n },
			"%s = %d, client wrote %d", name, func() any { return s.Counter(name) }, n)
	}
	_, read := log.counts()
	for api, n := range read {
		name := fmt.Sprintf("kafka.%s.response.%s_response", prefix, api)
		poll.Eventually(t, 5*time.Second, func() bool { return s.Counter(name) >= n && s.Counter(name) <= wrote[api] },
			"%s = %d, client read %d, wrote %d", name, func() any { return s.Counter(name) }, n, wrote[api])
		if n == 0 {
			t.Errorf("%s: client read none", name)
		}
		h, ok := s.Store.HistogramSnapshot(fmt.Sprintf("kafka.%s.response.%s_duration", prefix, api))
		if !ok || h.Count == 0 {
			t.Errorf("response.%s_duration: no samples", api)
		}
	}
	for _, c := range []string{"request.unknown", "request.failure", "response.unknown", "response.failure"} {
		if v := s.Counter("kafka." + prefix + "." + c); v != 0 {
			t.Errorf("%s = %d, want 0", c, v)
		}
	}
}

func TestStatsSingleBroker(t *testing.T) {
	kc := newCluster(t, 1)
	port := testenv.FreePort(t)
	s := sluicetest.Start(t, brokerConfig("one", kc.ListenAddrs()[0],
		fmt.Sprintf(", id_based_broker_address_rewrite_spec: {rules: [{id: 0, host: 127.0.0.1, port: %d}]}", port), port))
	log := newClientLog()
	opts := append(log.opts(), kgo.SeedBrokers(s.Addr("kafka")))
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	createTopic(t, cl, "t1", 3)
	produceConsume(t, cl, "t1", 50, opts...)
	cl.Close()
	assertStats(t, s, "one", log)
	for _, a := range log.dialedAddrs() {
		if a != s.Addr("kafka") {
			t.Errorf("client dialed %s, not sluice", a)
		}
	}
}
