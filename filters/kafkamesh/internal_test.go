package kafkamesh

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"log/slog"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	kcodec "github.com/sluice-proxy/sluice/codec/kafka"
	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/stats"
)

func validConfig() *Config {
	c := NewConfig()
	c.AdvertisedHost, c.AdvertisedPort = "127.0.0.1", 19092
	c.UpstreamClusters = []UpstreamCluster{
		{ClusterName: "a", BootstrapServers: "127.0.0.1:1", PartitionCount: 1},
		{ClusterName: "b", BootstrapServers: "127.0.0.1:2, 127.0.0.1:3", PartitionCount: 1},
	}
	c.ForwardingRules = []ForwardingRule{{TargetCluster: "a", TopicPrefix: "a"}, {TargetCluster: "b", TopicPrefix: "ab"}}
	c.GroupRouting = []GroupRoute{{TargetCluster: "b", GroupPrefix: "billing-"}}
	return c
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		input   func(c *Config)
		wantErr string
	}{
		{"valid", func(*Config) {}, ""},
		{"no host", func(c *Config) { c.AdvertisedHost = "" }, "advertised_host: required"},
		{"bad port", func(c *Config) { c.AdvertisedPort = 0 }, "advertised_port: must be 1-65535"},
		{"no clusters", func(c *Config) { c.UpstreamClusters = nil }, "upstream_clusters: needs at least one cluster"},
		{"duplicate cluster", func(c *Config) { c.UpstreamClusters[1].ClusterName = "a" }, `upstream_clusters[1].cluster_name: "a" given twice`},
		{"no bootstrap", func(c *Config) { c.UpstreamClusters[0].BootstrapServers = " , " }, "upstream_clusters[0].bootstrap_servers: required"},
		{"bad partitions", func(c *Config) { c.UpstreamClusters[0].PartitionCount = 0 }, "partition_count: must be positive"},
		{"no rules", func(c *Config) { c.ForwardingRules = nil }, "forwarding_rules: needs at least one rule"},
		{"unknown target", func(c *Config) { c.ForwardingRules[1].TargetCluster = "z" }, `forwarding_rules[1].target_cluster: no upstream cluster "z"`},
		{"unknown group target", func(c *Config) { c.GroupRouting[0].TargetCluster = "z" }, `group_routing[0].target_cluster: no upstream cluster "z"`},
		{"tiny frames", func(c *Config) { c.MaxRequestBytes = 10 }, "max_request_bytes: must be at least 1024"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			tc.input(c)
			var errs config.Errors
			c.Validate("m", &errs)
			err := errs.Err()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func testMesh(t testing.TB) *Mesh {
	t.Helper()
	m, err := New(validConfig(), &filters.Env{Stats: stats.New().Root(), Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func TestRouting(t *testing.T) {
	m := testMesh(t)
	for _, tc := range []struct {
		name  string
		input string
		want  string
	}{
		{"prefix a", "alpha", "a"},
		{"longest prefix wins", "abc", "b"},
		{"no rule", "zeta", ""},
		{"empty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ""
			if u := m.route(tc.input); u != nil {
				got = u.name
			}
			if got != tc.want {
				t.Fatalf("route(%q) = %q, want %q", tc.input, got, tc.want)
			}
		})
	}
}

func TestGroupCluster(t *testing.T) {
	m := testMesh(t)
	name := func(u *upstream) string {
		if u == nil {
			return ""
		}
		return u.name
	}
	for _, tc := range []struct {
		name   string
		group  string
		topics []string
		want   string
	}{
		{"group rule beats topics", "billing-1", []string{"alpha"}, "b"},
		{"unknown group, no topics", "g1", nil, ""},
		{"learned from topics", "g1", []string{"zeta", "alpha"}, "a"},
		{"remembered", "g1", nil, "a"},
		{"unrouted topics", "g2", []string{"zeta"}, ""},
	} {
		if got := name(m.groupCluster(tc.group, tc.topics)); got != tc.want {
			t.Errorf("%s: groupCluster(%q, %v) = %q, want %q", tc.name, tc.group, tc.topics, got, tc.want)
		}
	}
}

// offlineConn is a mesh connection whose context is already cancelled, so
// that nothing reaches an upstream: every answer is the mesh's own.
func offlineConn(t testing.TB) *meshConn {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return &meshConn{m: testMesh(t), s: &filters.Session{Log: slog.New(slog.DiscardHandler)}, ctx: ctx}
}

func frame(req kmsg.Request, corr int32) []byte {
	h := kcodec.RequestHeader{APIKey: req.Key(), APIVersion: req.GetVersion(), CorrelationID: corr, ClientID: []byte("t")}
	b := kcodec.AppendRequestHeader(nil, &h)
	return req.AppendTo(b)
}

// decode reads a response frame (with its size) of key at version.
func decode(t *testing.T, out []byte, resp kmsg.Response) int32 {
	t.Helper()
	if int(binary.BigEndian.Uint32(out)) != len(out)-4 {
		t.Fatalf("frame size %d, have %d bytes", binary.BigEndian.Uint32(out), len(out)-4)
	}
	corr, n, err := kcodec.DecodeResponseHeader(out[4:], kcodec.ResponseHeaderVersion(resp.Key(), resp.GetVersion()))
	if err != nil {
		t.Fatal(err)
	}
	if err := resp.ReadFrom(out[4+n:]); err != nil {
		t.Fatal(err)
	}
	return corr
}

func TestLocalAnswers(t *testing.T) {
	mc := offlineConn(t)
	t.Run("api_versions", func(t *testing.T) {
		req := kmsg.NewPtrApiVersionsRequest()
		req.SetVersion(3)
		out, err := mc.handle(frame(req, 7))
		if err != nil {
			t.Fatal(err)
		}
		resp := kmsg.NewPtrApiVersionsResponse()
		resp.SetVersion(3)
		if corr := decode(t, out, resp); corr != 7 || resp.ErrorCode != 0 || len(resp.ApiKeys) != len(supported) {
			t.Fatalf("corr %d code %d keys %d", corr, resp.ErrorCode, len(resp.ApiKeys))
		}
		initPID := false
		for _, k := range resp.ApiKeys {
			initPID = initPID || k.ApiKey == 22 && k.MinVersion == 0 && k.MaxVersion == 4
		}
		if !initPID {
			t.Error("InitProducerId 0-4 not advertised: idempotent producers are refused")
		}
	})
	t.Run("api_versions too new", func(t *testing.T) {
		req := kmsg.NewPtrApiVersionsRequest()
		req.SetVersion(3)
		b := frame(req, 8)
		binary.BigEndian.PutUint16(b[2:], 99)
		out, err := mc.handle(b)
		if err != nil {
			t.Fatal(err)
		}
		resp := kmsg.NewPtrApiVersionsResponse()
		if decode(t, out, resp); resp.ErrorCode != errUnsupportedVersion || len(resp.ApiKeys) == 0 {
			t.Fatalf("code %d, keys %d", resp.ErrorCode, len(resp.ApiKeys))
		}
	})
	t.Run("find_coordinator", func(t *testing.T) {
		req := kmsg.NewPtrFindCoordinatorRequest()
		req.SetVersion(4)
		req.CoordinatorKeys = []string{"g1", "g2"}
		out, err := mc.handle(frame(req, 9))
		if err != nil {
			t.Fatal(err)
		}
		resp := kmsg.NewPtrFindCoordinatorResponse()
		resp.SetVersion(4)
		decode(t, out, resp)
		if len(resp.Coordinators) != 2 || resp.Coordinators[1].Host != "127.0.0.1" || resp.Coordinators[1].Port != 19092 {
			t.Fatalf("coordinators %+v", resp.Coordinators)
		}
	})
	t.Run("unsupported api", func(t *testing.T) {
		req := kmsg.NewPtrEndTxnRequest()
		req.SetVersion(2)
		out, err := mc.handle(frame(req, 10))
		if err != nil {
			t.Fatal(err)
		}
		resp := kmsg.NewPtrEndTxnResponse()
		resp.SetVersion(2)
		if decode(t, out, resp); resp.ErrorCode != errUnsupportedVersion {
			t.Fatalf("code %d", resp.ErrorCode)
		}
	})
	t.Run("init_producer_id", func(t *testing.T) {
		ids := map[int64]bool{}
		for i, txn := range []*string{nil, nil, kmsg.StringPtr("tx")} {
			req := kmsg.NewPtrInitProducerIDRequest()
			req.SetVersion(4)
			req.TransactionalID = txn
			out, err := mc.handle(frame(req, int32(20+i)))
			if err != nil {
				t.Fatal(err)
			}
			resp := kmsg.NewPtrInitProducerIDResponse()
			resp.SetVersion(4)
			decode(t, out, resp)
			switch {
			case txn != nil && resp.ErrorCode != 53: // TRANSACTIONAL_ID_AUTHORIZATION_FAILED
				t.Fatalf("transactional: code %d", resp.ErrorCode)
			case txn == nil && (resp.ErrorCode != 0 || resp.ProducerID < 0 || resp.ProducerEpoch != 0 || ids[resp.ProducerID]):
				t.Fatalf("idempotent: %+v (issued before: %v)", resp, ids)
			}
			ids[resp.ProducerID] = true
		}
	})
	t.Run("unrouted produce", func(t *testing.T) {
		req := kmsg.NewPtrProduceRequest()
		req.SetVersion(7)
		req.Acks = -1
		rt := kmsg.NewProduceRequestTopic()
		rt.Topic = "zeta"
		rt.Partitions = []kmsg.ProduceRequestTopicPartition{{Partition: 0}, {Partition: 1}}
		req.Topics = append(req.Topics, rt)
		out, err := mc.handle(frame(req, 11))
		if err != nil {
			t.Fatal(err)
		}
		resp := kmsg.NewPtrProduceResponse()
		resp.SetVersion(7)
		decode(t, out, resp)
		if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 2 || resp.Topics[0].Partitions[1].ErrorCode != errUnknownTopic {
			t.Fatalf("topics %+v", resp.Topics)
		}
	})
	t.Run("unplaced group", func(t *testing.T) {
		req := kmsg.NewPtrHeartbeatRequest()
		req.SetVersion(4)
		req.Group = "nobody"
		out, err := mc.handle(frame(req, 12))
		if err != nil {
			t.Fatal(err)
		}
		resp := kmsg.NewPtrHeartbeatResponse()
		resp.SetVersion(4)
		if decode(t, out, resp); resp.ErrorCode != errCoordinatorNotAvail {
			t.Fatalf("code %d", resp.ErrorCode)
		}
	})
}

// BenchmarkHandleLocal is the mesh's own work for a request it answers
// itself: header decode, kmsg decode, answer, encode.
func BenchmarkHandleLocal(b *testing.B) {
	mc := offlineConn(b)
	fc := kmsg.NewPtrFindCoordinatorRequest()
	fc.SetVersion(3)
	fc.CoordinatorKey = "group"
	req := frame(fc, 1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := mc.handle(req); err != nil {
			b.Fatal(err)
		}
	}
}

// TestRequestBufferBoundedByLimit: a request larger than the listener's
// per_connection_buffer_limit_bytes is read whole (up to
// max_request_bytes), and its buffer is dropped at the next smaller request.
func TestRequestBufferBoundedByLimit(t *testing.T) {
	const limit = 64 << 10
	mc := &meshConn{m: &Mesh{cfg: NewConfig(), limit: limit}}
	frame := func(n int) []byte {
		b := make([]byte, 4+n)
		binary.BigEndian.PutUint32(b, uint32(n))
		return b
	}
	in := append(append(append(frame(1<<20), frame(100)...), frame(1000)...), frame(limit+1)...)
	br := bufio.NewReader(bytes.NewReader(in))
	for i, want := range []struct{ size, maxCap int }{{1 << 20, 1 << 20}, {100, limit}, {1000, limit}, {limit + 1, limit + 1}} {
		body, err := mc.readFrame(br)
		if err != nil || len(body) != want.size {
			t.Fatalf("frame %d: %d bytes, %v", i, len(body), err)
		}
		if cap(mc.buf) > want.maxCap {
			t.Fatalf("frame %d of %d bytes: buffer of %d kept, want at most %d", i, want.size, cap(mc.buf), want.maxCap)
		}
	}
}
