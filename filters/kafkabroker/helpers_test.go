package kafkabroker_test

import (
	"context"
	"net"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	kcodec "github.com/sluice-proxy/sluice/codec/kafka"
)

// newCluster starts an in-process Kafka cluster of n brokers.
func newCluster(t *testing.T, n int) *kfake.Cluster {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(n), kfake.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// clientLog records what a kgo client did: the addresses it dialed and the
// requests it wrote and responses it read, per API name.
type clientLog struct {
	mu     sync.Mutex
	dialed map[string]bool
	wrote  map[string]uint64
	read   map[string]uint64
}

func newClientLog() *clientLog {
	return &clientLog{dialed: map[string]bool{}, wrote: map[string]uint64{}, read: map[string]uint64{}}
}

func (l *clientLog) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	l.mu.Lock()
	l.dialed[addr] = true
	l.mu.Unlock()
	return (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, addr)
}

// OnBrokerWrite counts requests written.
func (l *clientLog) OnBrokerWrite(_ kgo.BrokerMetadata, key int16, _ int, _, _ time.Duration, err error) {
	if err == nil {
		l.mu.Lock()
		l.wrote[kcodec.ApiName(key)]++
		l.mu.Unlock()
	}
}

// OnBrokerRead counts responses read.
func (l *clientLog) OnBrokerRead(_ kgo.BrokerMetadata, key int16, _ int, _, _ time.Duration, err error) {
	if err == nil {
		l.mu.Lock()
		l.read[kcodec.ApiName(key)]++
		l.mu.Unlock()
	}
}

func (l *clientLog) opts() []kgo.Opt {
	return []kgo.Opt{kgo.Dialer(l.dial), kgo.WithHooks(l)}
}

func (l *clientLog) dialedAddrs() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for a := range l.dialed {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

func (l *clientLog) counts() (wrote, read map[string]uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	wrote, read = map[string]uint64{}, map[string]uint64{}
	for k, v := range l.wrote {
		wrote[k] = v
	}
	for k, v := range l.read {
		read[k] = v
	}
	return wrote, read
}

// createTopic creates topic with partitions through cl.
func createTopic(t *testing.T, cl *kgo.Client, topic string, partitions int32) {
	t.Helper()
	req := kmsg.NewPtrCreateTopicsRequest()
	rt := kmsg.NewCreateTopicsRequestTopic()
	rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, partitions, 1
	req.Topics = append(req.Topics, rt)
	req.TimeoutMillis = 5000
	resp, err := req.RequestWith(context.Background(), cl)
	if err != nil {
		t.Fatalf("create topic: %v", err)
	}
	if c := resp.Topics[0].ErrorCode; c != 0 {
		t.Fatalf("create topic: error code %d", c)
	}
}
