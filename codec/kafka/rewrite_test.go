package kafka

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func relayAddr(id int32, _ string, port int32) (string, int32) {
	return fmt.Sprintf("sluice-%d.local", id), port + 10000
}

func identityAddr(_ int32, host string, port int32) (string, int32) { return host, port }

// TestRewriteEveryVersion builds a response with brokers for every version
// of the three rewritten APIs, rewrites it, decodes the result with kmsg and
// checks every address; the identity rewrite must give back the same bytes.
func TestRewriteEveryVersion(t *testing.T) {
	type check func(t *testing.T, body []byte, v int16)
	cases := []struct {
		key   int16
		build func(v int16) kmsg.Response
		check check
	}{
		{KeyMetadata, func(v int16) kmsg.Response {
			r := kmsg.NewPtrMetadataResponse()
			for i := int32(1); i <= 3; i++ {
				b := kmsg.NewMetadataResponseBroker()
				b.NodeID, b.Host, b.Port = i, fmt.Sprintf("broker-%d", i), 9092
				r.Brokers = append(r.Brokers, b)
			}
			topic := kmsg.NewMetadataResponseTopic()
			topic.Topic = kmsg.StringPtr("orders")
			r.Topics = append(r.Topics, topic)
			return r
		}, func(t *testing.T, body []byte, v int16) {
			r := kmsg.NewPtrMetadataResponse()
			r.SetVersion(v)
			if err := r.ReadFrom(body); err != nil {
				t.Fatal(err)
			}
			if len(r.Brokers) != 3 || len(r.Topics) != 1 || *r.Topics[0].Topic != "orders" {
				t.Fatalf("lost content: %+v", r)
			}
			for _, b := range r.Brokers {
				if b.Host != fmt.Sprintf("sluice-%d.local", b.NodeID) || b.Port != 19092 {
					t.Errorf("broker %d at %s:%d", b.NodeID, b.Host, b.Port)
				}
			}
		}},
		{KeyFindCoordinator, func(v int16) kmsg.Response {
			r := kmsg.NewPtrFindCoordinatorResponse()
			r.NodeID, r.Host, r.Port = 2, "broker-2", 9092
			c := kmsg.NewFindCoordinatorResponseCoordinator()
			c.Key, c.NodeID, c.Host, c.Port = "billing", 2, "broker-2", 9092
			r.Coordinators = append(r.Coordinators, c)
			return r
		}, func(t *testing.T, body []byte, v int16) {
			r := kmsg.NewPtrFindCoordinatorResponse()
			r.SetVersion(v)
			if err := r.ReadFrom(body); err != nil {
				t.Fatal(err)
			}
			if v <= 3 && (r.Host != "sluice-2.local" || r.Port != 19092) {
				t.Errorf("coordinator at %s:%d", r.Host, r.Port)
			}
			if v >= 4 && (len(r.Coordinators) != 1 || r.Coordinators[0].Host != "sluice-2.local" || r.Coordinators[0].Port != 19092) {
				t.Errorf("coordinators %+v", r.Coordinators)
			}
		}},
		{KeyDescribeCluster, func(v int16) kmsg.Response {
			r := kmsg.NewPtrDescribeClusterResponse()
			b := kmsg.NewDescribeClusterResponseBroker()
			b.NodeID, b.Host, b.Port = 1, "broker-1", 9092
			r.Brokers = append(r.Brokers, b)
			return r
		}, func(t *testing.T, body []byte, v int16) {
			r := kmsg.NewPtrDescribeClusterResponse()
			r.SetVersion(v)
			if err := r.ReadFrom(body); err != nil {
				t.Fatal(err)
			}
			if len(r.Brokers) != 1 || r.Brokers[0].Host != "sluice-1.local" || r.Brokers[0].Port != 19092 {
				t.Errorf("brokers %+v", r.Brokers)
			}
		}},
	}
	for _, c := range cases {
		for v := int16(0); v <= MaxVersion(c.key); v++ {
			t.Run(fmt.Sprintf("%s/v%d", ApiName(c.key), v), func(t *testing.T) {
				r := c.build(v)
				r.SetVersion(v)
				body := r.AppendTo(nil)
				got, err := RewriteResponse(c.key, v, body, relayAddr)
				if err != nil {
					t.Fatal(err)
				}
				c.check(t, got, v)
				same, err := RewriteResponse(c.key, v, body, identityAddr)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(same, body) {
					t.Errorf("identity rewrite changed the bytes:\n got %x\nwant %x", same, body)
				}
			})
		}
	}
}

func TestRewriteErrors(t *testing.T) {
	meta := kmsg.NewPtrMetadataResponse()
	meta.SetVersion(12)
	meta.Brokers = append(meta.Brokers, kmsg.MetadataResponseBroker{NodeID: 1, Host: "b", Port: 1})
	body := meta.AppendTo(nil)
	tests := []struct {
		name     string
		key, ver int16
		input    []byte
		wantErr  error
	}{
		{"not a rewritten api", KeyProduce, 9, body, ErrUnknownAPIKey},
		{"version above kmsg", KeyMetadata, MaxVersion(KeyMetadata) + 1, body, ErrUnsupportedVersion},
		{"negative version", KeyDescribeCluster, -1, body, ErrUnsupportedVersion},
		{"truncated body", KeyMetadata, 12, body[:len(body)/2], errAnyDecode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := RewriteResponse(tt.key, tt.ver, tt.input, relayAddr)
			if tt.wantErr == errAnyDecode && err != nil {
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// errAnyDecode stands for kmsg's unexported not-enough-data error.
var errAnyDecode = errors.New("any decoding error")
