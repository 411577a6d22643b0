package kafkabroker_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-proxy/sluice/internal/poll"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// TestRequestSpans: a franz-go client through kafka_broker with tracing;
// each request is a client span named by its API (Envoy's stat names:
// produce, metadata...) in the collector, one per request the client wrote.
func TestRequestSpans(t *testing.T) {
	kc := newCluster(t, 1)
	col := testenv.StartOtelCol(t)
	port := testenv.FreePort(t)
	tr := fmt.Sprintf(", id_based_broker_address_rewrite_spec: {rules: [{id: 0, host: 127.0.0.1, port: %d}]}, "+
		"tracing: {enabled: true, provider: {opentelemetry: {service_name: kafka-edge, grpc_service: {envoy_grpc: {cluster_name: otel}}, flush_interval: 100ms}}}", port)
	cfg := brokerConfig("traced", kc.ListenAddrs()[0], tr, port) +
		fmt.Sprintf("  - {name: otel, connect_timeout: 1s, endpoints: [%q]}\n", col.GRPCAddr())
	s := sluicetest.Start(t, cfg)
	log := newClientLog()
	opts := append(log.opts(), kgo.SeedBrokers(s.Addr("kafka")))
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	createTopic(t, cl, "traced", 1)
	produceConsume(t, cl, "traced", 5, opts...)
	cl.Close()
	wrote, _ := log.counts()
	count := map[string]int{}
	ok := poll.Until(20*time.Second, func() bool {
		spans, _ := col.Spans()
		clear(count)
		for _, sp := range spans {
			if sp.Service == "kafka-edge" && sp.Kind == 3 && sp.Attrs["messaging.system"] == "kafka" {
				count[sp.Name]++
			}
		}
		return count["produce"] == int(wrote["produce"]) && count["metadata"] == int(wrote["metadata"]) && count["produce"] > 0
	})
	if !ok {
		t.Fatalf("spans by API %v, client wrote %v", count, wrote)
	}
}
