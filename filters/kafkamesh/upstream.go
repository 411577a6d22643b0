package kafkamesh

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
)

// metaTTL is how long partition leaders are trusted without a refresh; a
// leadership error in a response drops them at once.
const metaTTL = 30 * time.Second

// upstream is one Kafka cluster behind the mesh: kgo clients (one per acks
// setting, since kgo sets a raw Produce request's acks from its config) and
// a cache of partition leaders.
type upstream struct {
	name       string
	key        string // name and bootstrap servers: the cluster across reloads
	seeds      []string
	partitions int32
	clientID   string
	timeout    time.Duration
	log        *slog.Logger
	tls        *tls.Config // producer_config's TLS; nil: plain text
	tlsErr     error       // producer_config's TLS did not build (files gone since load)

	mu     sync.Mutex
	byAcks [3]*kgo.Client // acks 0, 1, -1 at 0, 1, 2
	meta   map[string]topicMeta
	closed bool // no client is made after close
}

// topicMeta is a topic's partition leaders, by partition.
type topicMeta struct {
	leaders map[int32]int32
	at      time.Time
}

func newUpstream(c *UpstreamCluster, log *slog.Logger) *upstream {
	if log == nil {
		log = slog.Default()
	}
	u := &upstream{name: c.ClusterName, key: c.ClusterName + "|" + c.BootstrapServers, seeds: c.seeds(), partitions: c.PartitionCount, clientID: "sluice-kafka-mesh",
		timeout: 30 * time.Second, log: log, meta: map[string]topicMeta{}}
	u.tls, _, u.tlsErr = tlsConfig(c.ProducerConfig)
	if id := c.ProducerConfig["client.id"]; id != "" {
		u.clientID = id
	}
	if ms, err := strconv.Atoi(c.ProducerConfig["request.timeout.ms"]); err == nil && ms > 0 {
		u.timeout = time.Duration(ms) * time.Millisecond
	}
	return u
}

// upstreamVersions caps what the kgo clients send: Kafka 3.0's versions, the
// last before Fetch and Produce name topics by id only. The mesh advertises
// the same maxima, so requests keep their meaning when re-encoded.
func upstreamVersions() *kversion.Versions { return kversion.V3_0_0() }

// client returns the client that produces with acks.
func (u *upstream) client(acks int16) (*kgo.Client, error) {
	i := 2
	opt := kgo.AllISRAcks()
	switch acks {
	case 0:
		i, opt = 0, kgo.NoAck()
	case 1:
		i, opt = 1, kgo.LeaderAck()
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if c := u.byAcks[i]; c != nil {
		return c, nil
	}
	if u.closed {
		return nil, errClosed
	}
	c, err := u.newClient(opt)
	if err != nil {
		return nil, err
	}
	u.byAcks[i] = c
	return c, nil
}

// newClient returns a new client of the cluster that produces with acks.
func (u *upstream) newClient(acks kgo.Acks) (*kgo.Client, error) {
	if u.tlsErr != nil {
		return nil, fmt.Errorf("kafka_mesh: cluster %s: TLS: %w", u.name, u.tlsErr)
	}
	opts := []kgo.Opt{kgo.SeedBrokers(u.seeds...), kgo.MaxVersions(upstreamVersions()), kgo.RequiredAcks(acks),
		kgo.DisableIdempotentWrite(), kgo.ClientID(u.clientID), kgo.ProduceRequestTimeout(u.timeout),
		kgo.RequestTimeoutOverhead(5 * time.Second)}
	if u.tls != nil {
		opts = append(opts, kgo.DialTLSConfig(u.tls.Clone()))
	}
	return kgo.NewClient(opts...)
}

// errClosed answers a request that needs a client after the mesh closed.
var errClosed = errors.New("kafka_mesh: closed")

// close closes the cluster's shared clients; later requests get errClosed.
func (u *upstream) close() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.closed = true
	for i, c := range u.byAcks {
		if c != nil {
			c.Close()
			u.byAcks[i] = nil
		}
	}
}

// metadata asks the cluster about topics (nil: all) through cl, creating
// missing topics with the cluster's partition count when create is set, and
// refreshes the leader cache from the answer.
func (u *upstream) metadata(ctx context.Context, cl *kgo.Client, topics []string, create bool) (*kmsg.MetadataResponse, error) {
	req := kmsg.NewPtrMetadataRequest()
	if topics != nil {
		req.Topics = []kmsg.MetadataRequestTopic{}
		for _, t := range topics {
			rt := kmsg.NewMetadataRequestTopic()
			rt.Topic = kmsg.StringPtr(t)
			req.Topics = append(req.Topics, rt)
		}
	}
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, fmt.Errorf("metadata from %s: %w", u.name, err)
	}
	if create && u.createMissing(ctx, cl, resp) {
		if resp, err = req.RequestWith(ctx, cl); err != nil {
			return nil, fmt.Errorf("metadata from %s: %w", u.name, err)
		}
	}
	u.learn(resp)
	return resp, nil
}

// createMissing creates the topics resp reports unknown; it reports whether
// it created any.
func (u *upstream) createMissing(ctx context.Context, cl *kgo.Client, resp *kmsg.MetadataResponse) bool {
	req := kmsg.NewPtrCreateTopicsRequest()
	req.TimeoutMillis = int32(u.timeout.Milliseconds())
	for _, t := range resp.Topics {
		if t.ErrorCode == errUnknownTopic && t.Topic != nil {
			ct := kmsg.NewCreateTopicsRequestTopic()
			ct.Topic, ct.NumPartitions, ct.ReplicationFactor = *t.Topic, u.partitions, -1
			req.Topics = append(req.Topics, ct)
		}
	}
	if len(req.Topics) == 0 {
		return false
	}
	if _, err := req.RequestWith(ctx, cl); err != nil {
		u.log.Info("kafka_mesh: creating topics failed", "cluster", u.name, "err", err)
		return false
	}
	return true
}

// learn stores the partition leaders of a metadata response.
func (u *upstream) learn(resp *kmsg.MetadataResponse) {
	now := time.Now()
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, t := range resp.Topics {
		if t.Topic == nil || t.ErrorCode != 0 {
			continue
		}
		tm := topicMeta{leaders: make(map[int32]int32, len(t.Partitions)), at: now}
		for _, p := range t.Partitions {
			tm.leaders[p.Partition] = p.Leader
		}
		u.meta[*t.Topic] = tm
	}
}

// leaders returns the partition leaders of topics, asking the cluster for
// those not cached or stale. A topic missing from the result is unknown.
func (u *upstream) leaders(ctx context.Context, cl *kgo.Client, topics []string) map[string]map[int32]int32 {
	out := make(map[string]map[int32]int32, len(topics))
	var missing []string
	u.mu.Lock()
	for _, t := range topics {
		if tm, ok := u.meta[t]; ok && time.Since(tm.at) < metaTTL {
			out[t] = tm.leaders
		} else {
			missing = append(missing, t)
		}
	}
	u.mu.Unlock()
	if len(missing) == 0 {
		return out
	}
	if _, err := u.metadata(ctx, cl, missing, false); err != nil {
		u.log.Info("kafka_mesh: leader lookup failed", "cluster", u.name, "err", err)
	}
	u.mu.Lock()
	for _, t := range missing {
		if tm, ok := u.meta[t]; ok {
			out[t] = tm.leaders
		}
	}
	u.mu.Unlock()
	return out
}

// forget drops a topic's cached leaders after a leadership error.
func (u *upstream) forget(topic string) {
	u.mu.Lock()
	delete(u.meta, topic)
	u.mu.Unlock()
}
