package kafka

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite testdata/fuzz seed corpora from recorded kfake traffic")

// TestRealTraffic runs an in-process kfake cluster of three brokers and
// franz-go clients through relays built on this package's framers and
// rewriters: the clients must complete a produce/consume-group round trip
// while dialing relays only, every frame must decode, every response must
// match its request, and every advertised address must be a relay's.
func TestRealTraffic(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a kfake cluster")
	}
	cluster, err := kfake.NewCluster(kfake.NumBrokers(3), kfake.SeedTopics(3, "orders"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	rec := newRecorder()
	relays := startRelays(t, cluster.ListenAddrs(), rec)

	var dialedMu sync.Mutex
	var dialed []string
	dialer := func(ctx context.Context, network, host string) (net.Conn, error) {
		dialedMu.Lock()
		dialed = append(dialed, host)
		dialedMu.Unlock()
		var d net.Dialer
		return d.DialContext(ctx, network, host)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	const n = 50
	prod, err := kgo.NewClient(kgo.SeedBrokers(relays[0]), kgo.Dialer(dialer), kgo.DefaultProduceTopic("orders"))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	for i := range n {
		r := &kgo.Record{Key: []byte(strconv.Itoa(i)), Value: []byte(fmt.Sprintf("order-%d", i))}
		if err := prod.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatalf("produce %d: %v", i, err)
		}
	}
	// acks=0: the broker sends nothing back, so the relay must not wait.
	fire, err := kgo.NewClient(kgo.SeedBrokers(relays[1]), kgo.Dialer(dialer), kgo.DefaultProduceTopic("orders"),
		kgo.RequiredAcks(kgo.NoAck()), kgo.DisableIdempotentWrite())
	if err != nil {
		t.Fatal(err)
	}
	if err := fire.ProduceSync(ctx, &kgo.Record{Value: []byte("fire-and-forget")}).FirstErr(); err != nil {
		t.Fatalf("acks=0 produce: %v", err)
	}
	fire.Close()
	// A client pinned to Kafka 0.11 speaks non-flexible versions with
	// header v1 (Metadata v4, Produce v3).
	old, err := kgo.NewClient(kgo.SeedBrokers(relays[0]), kgo.Dialer(dialer), kgo.DefaultProduceTopic("orders"),
		kgo.MaxVersions(kversion.V0_11_0()))
	if err != nil {
		t.Fatal(err)
	}
	if err := old.ProduceSync(ctx, &kgo.Record{Value: []byte("old-client")}).FirstErr(); err != nil {
		t.Fatalf("old-version produce: %v", err)
	}
	old.Close()

	cons, err := kgo.NewClient(kgo.SeedBrokers(relays[2]), kgo.Dialer(dialer), kgo.ConsumeTopics("orders"),
		kgo.ConsumerGroup("billing"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	got := 0
	for got < n+2 {
		fs := cons.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of %d records: %v", got, n+2, err)
		}
		fs.EachError(func(_ string, _ int32, err error) { t.Errorf("fetch: %v", err) })
		got += fs.NumRecords()
	}
	if err := cons.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatalf("commit: %v", err)
	}
	dc := kmsg.NewPtrDescribeClusterRequest()
	if _, err := dc.RequestWith(ctx, cons); err != nil {
		t.Fatalf("describe cluster: %v", err)
	}
	cons.Close()
	prod.Close()

	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, err := range rec.errs {
		t.Errorf("relay: %v", err)
	}
	for _, api := range []string{"api_versions", "metadata", "produce", "fetch", "find_coordinator",
		"join_group", "sync_group", "offset_fetch", "offset_commit", "describe_cluster"} {
		if rec.requests[api] == 0 || rec.responses[api] == 0 {
			t.Errorf("%s: %d requests, %d responses seen", api, rec.requests[api], rec.responses[api])
		}
	}
	if rec.acks0 == 0 {
		t.Error("no acks=0 produce seen")
	}
	dialedMu.Lock()
	defer dialedMu.Unlock()
	t.Logf("requests %v; responses %v; dialed %v", rec.requests, rec.responses, dialed)
	for _, d := range dialed {
		if !slices.Contains(relays, d) {
			t.Errorf("client dialed %s directly, not a relay %v", d, relays)
		}
	}
	if len(rec.rewritten) == 0 {
		t.Error("no address rewritten")
	}
	for _, a := range rec.rewritten {
		if !slices.Contains(relays, a) {
			t.Errorf("rewritten address %s is not a relay", a)
		}
	}
	if *updateSeeds {
		writeSeeds(t, rec)
	}
}

// writeSeeds stores recorded frames as go-fuzz corpus files.
func writeSeeds(t *testing.T, rec *recorder) {
	t.Helper()
	write := func(target, name string, args ...any) {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		s := "go test fuzz v1\n"
		for _, a := range args {
			switch v := a.(type) {
			case int16:
				s += fmt.Sprintf("int16(%d)\n", v)
			case []byte:
				s += "[]byte(" + strconv.Quote(string(v)) + ")\n"
			}
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i, s := range rec.streams {
		write("FuzzRequestFramer", fmt.Sprintf("kfake-stream-%d", i), s)
	}
	for k, body := range rec.reqSeen {
		write("FuzzErrorResponse", fmt.Sprintf("kfake-%s-v%d", ApiName(k[0]), k[1]), k[0], k[1], body)
	}
	for k, frame := range rec.respSeen {
		name := fmt.Sprintf("kfake-%s-v%d", ApiName(k[0]), k[1])
		write("FuzzResponseFramer", name, k[0], k[1], frame)
		if RewritesAddresses(k[0]) {
			_, n, err := DecodeResponseHeader(frame[4:], ResponseHeaderVersion(k[0], k[1]))
			if err != nil {
				t.Fatal(err)
			}
			write("FuzzRewrite", name, k[0], k[1], frame[4+n:])
		}
	}
}
