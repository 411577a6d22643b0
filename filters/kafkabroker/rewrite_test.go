package kafkabroker_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	kcodec "github.com/sluice-proxy/sluice/codec/kafka"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// staticConfig has one listener per broker, each proxying to its broker,
// with rules that advertise the listeners; rewrite false leaves them out.
func staticConfig(prefix string, brokers []string, ports []int, rewrite bool) string {
	var rules, ls, cs strings.Builder
	for i := range brokers {
		fmt.Fprintf(&rules, "{id: %d, host: 127.0.0.1, port: %d},", i, ports[i])
	}
	spec := ""
	if rewrite {
		spec = ", id_based_broker_address_rewrite_spec: {rules: [" + strings.TrimSuffix(rules.String(), ",") + "]}"
	}
	for i, b := range brokers {
		fmt.Fprintf(&ls, `
  - name: kafka%[1]d
    address: 127.0.0.1:%[2]d
    filters:
      - kafka_broker: {stat_prefix: %[3]s%[4]s}
      - tcp_proxy: {stat_prefix: kafka%[1]d, cluster: broker%[1]d}`, i, ports[i], prefix, spec)
		fmt.Fprintf(&cs, `
  - name: broker%d
    type: static
    connect_timeout: 1s
    endpoints: ["%s"]`, i, b)
	}
	return "listeners:" + ls.String() + "\nclusters:" + cs.String() + "\n"
}

// notIn returns the addresses the client dialed that are not in allowed.
func notIn(dialed []string, allowed map[string]bool) []string {
	var out []string
	for _, a := range dialed {
		if !allowed[a] {
			out = append(out, a)
		}
	}
	return out
}

// runThreeBrokers creates a topic with a partition on each broker, produces
// and consumes through the bootstrap address and returns the client log.
func runThreeBrokers(t *testing.T, bootstrap, topic string) *clientLog {
	log := newClientLog()
	opts := append(log.opts(), kgo.SeedBrokers(bootstrap))
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	createTopic(t, cl, topic, 6)
	produceConsume(t, cl, topic, 120, opts...)
	return log
}

func TestStaticRewriteThreeBrokers(t *testing.T) {
	kc := newCluster(t, 3)
	brokers := kc.ListenAddrs()
	for _, rewrite := range []bool{true, false} {
		t.Run(fmt.Sprintf("rewrite=%v", rewrite), func(t *testing.T) {
			ports := []int{testenv.FreePort(t), testenv.FreePort(t), testenv.FreePort(t)}
			prefix := fmt.Sprintf("static%v", rewrite)
			s := sluicetest.Start(t, staticConfig(prefix, brokers, ports, rewrite))
			log := runThreeBrokers(t, s.Addr("kafka0"), prefix)
			ours := map[string]bool{}
			for i := range ports {
				ours[s.Addr(fmt.Sprintf("kafka%d", i))] = true
			}
			direct := notIn(log.dialedAddrs(), ours)
			if !rewrite {
				// The control: without the rewrite the client goes around sluice,
				// which is what the assertion below catches.
				if len(direct) == 0 {
					t.Fatal("without rewrite the client should have dialed the brokers directly")
				}
				return
			}
			if len(direct) > 0 {
				t.Fatalf("client dialed brokers directly: %v", direct)
			}
			if len(log.dialedAddrs()) != 3 {
				t.Errorf("dialed %v, want all three sluice listeners", log.dialedAddrs())
			}
			assertStats(t, s, prefix, log)
		})
	}
}

func TestAutoRewriteThreeBrokers(t *testing.T) {
	kc := newCluster(t, 3)
	s := sluicetest.Start(t, brokerConfig("auto", kc.ListenAddrs()[0],
		", broker_address_rewrite: {auto: {bind_host: 127.0.0.1}}", testenv.FreePort(t)))
	log := runThreeBrokers(t, s.Addr("kafka"), "spread")
	brokers := map[string]bool{}
	for _, b := range kc.ListenAddrs() {
		brokers[b] = true
	}
	dialed := log.dialedAddrs()
	for _, a := range dialed {
		if brokers[a] {
			t.Errorf("client dialed broker %s directly", a)
		}
	}
	// The bootstrap listener plus one listener per broker.
	if len(dialed) != 4 {
		t.Errorf("dialed %v, want the bootstrap and three per-broker listeners", dialed)
	}
	assertStats(t, s, "auto", log)
}

// TestAutoListenersSurviveReload reloads the config with a refusal added:
// the per-broker listeners keep their addresses (clients hold them) and are
// served by the rebuilt filter.
func TestAutoListenersSurviveReload(t *testing.T) {
	kc := newCluster(t, 2)
	port := testenv.FreePort(t)
	auto := ", broker_address_rewrite: {auto: {bind_host: 127.0.0.1}}"
	s := sluicetest.Start(t, brokerConfig("reload", kc.ListenAddrs()[0], auto, port))
	before := runThreeBrokers(t, s.Addr("kafka"), "before").dialedAddrs()
	if err := s.Reload(brokerConfig("reload", kc.ListenAddrs()[0], auto+", api_keys_denied: [19]", port)); err != nil {
		t.Fatal(err)
	}
	log := newClientLog()
	cl, err := kgo.NewClient(append(log.opts(), kgo.SeedBrokers(s.Addr("kafka")))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = "after", 1, 1
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(context.Background(), cl)
	if err != nil {
		t.Fatal(err)
	}
	if c := resp.Topics[0].ErrorCode; c != kcodec.ErrCodeTopicAuthorizationFailed {
		t.Fatalf("create_topics after reload: code %d, want %d", c, kcodec.ErrCodeTopicAuthorizationFailed)
	}
	if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: "before", Value: []byte("x")}).FirstErr(); err != nil {
		t.Fatalf("produce after reload: %v", err)
	}
	old := map[string]bool{}
	for _, a := range before {
		old[a] = true
	}
	for _, a := range log.dialedAddrs() {
		if !old[a] {
			t.Errorf("after reload the client dialed %s, not one of %v", a, before)
		}
	}
}
