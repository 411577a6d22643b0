package kafkabroker_test

import (
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	kcodec "github.com/sluice-proxy/sluice/codec/kafka"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// frame encodes req as a request frame with correlation id corr.
func frame(req kmsg.Request, corr int32) []byte {
	h := kcodec.RequestHeader{APIKey: req.Key(), APIVersion: req.GetVersion(), CorrelationID: corr, ClientID: []byte("deny-test")}
	b := kcodec.AppendRequestHeader(make([]byte, 4, 256), &h)
	b = req.AppendTo(b)
	binary.BigEndian.PutUint32(b, uint32(len(b)-4))
	return b
}

func createTopicsReq(topic string) kmsg.Request {
	r := kmsg.NewPtrCreateTopicsRequest()
	r.SetVersion(5)
	t := kmsg.NewCreateTopicsRequestTopic()
	t.Topic, t.NumPartitions, t.ReplicationFactor = topic, 1, 1
	r.Topics = append(r.Topics, t)
	return r
}

func metadataReq(topic string) kmsg.Request {
	r := kmsg.NewPtrMetadataRequest()
	r.SetVersion(9)
	t := kmsg.NewMetadataRequestTopic()
	t.Topic = kmsg.StringPtr(topic)
	r.Topics = append(r.Topics, t)
	return r
}

func apiVersionsReq() kmsg.Request {
	r := kmsg.NewPtrApiVersionsRequest()
	r.SetVersion(3)
	r.ClientSoftwareName, r.ClientSoftwareVersion = "deny-test", "1"
	return r
}

// readResponse reads one response frame of a request with key and version
// and decodes it into resp; it returns the correlation id.
func readResponse(t *testing.T, c net.Conn, resp kmsg.Response) int32 {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var size [4]byte
	if _, err := io.ReadFull(c, size[:]); err != nil {
		t.Fatalf("reading %T: %v", resp, err)
	}
	body := make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(c, body); err != nil {
		t.Fatal(err)
	}
	corr, n, err := kcodec.DecodeResponseHeader(body, kcodec.ResponseHeaderVersion(resp.Key(), resp.GetVersion()))
	if err != nil {
		t.Fatal(err)
	}
	if err := resp.ReadFrom(body[n:]); err != nil {
		t.Fatalf("decoding %T (corr %d): %v", resp, corr, err)
	}
	return corr
}

// TestDeniedRequestAnsweredInOrder pipelines allowed and refused requests on
// one connection: each refused request gets its API's error response, in
// request order among the broker's responses, is not forwarded, and the
// connection keeps working.
func TestDeniedRequestAnsweredInOrder(t *testing.T) {
	for _, tc := range []struct {
		name, extra string
	}{
		{"denied", ", api_keys_denied: [19]"},
		{"not allowed", ", api_keys_allowed: [3, 18]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			kc := newCluster(t, 1)
			s := sluicetest.Start(t, brokerConfig("deny", kc.ListenAddrs()[0], tc.extra, testenv.FreePort(t)))
			c, err := net.Dial("tcp", s.Addr("kafka"))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			var batch []byte
			batch = append(batch, frame(apiVersionsReq(), 1)...)
			batch = append(batch, frame(createTopicsReq("refused"), 2)...)
			batch = append(batch, frame(metadataReq("refused"), 3)...)
			batch = append(batch, frame(createTopicsReq("refused"), 4)...)
			if _, err := c.Write(batch); err != nil {
				t.Fatal(err)
			}
			av := kmsg.NewPtrApiVersionsResponse()
			av.SetVersion(3)
			if corr := readResponse(t, c, av); corr != 1 || av.ErrorCode != 0 {
				t.Fatalf("api_versions: corr %d code %d", corr, av.ErrorCode)
			}
			for _, want := range []int32{2, 3, 4} {
				if want == 3 {
					md := kmsg.NewPtrMetadataResponse()
					md.SetVersion(9)
					corr := readResponse(t, c, md)
					if corr != 3 || len(md.Topics) != 1 || md.Topics[0].ErrorCode != 3 {
						t.Fatalf("metadata: corr %d, topics %+v: want the refused topic unknown (3)", corr, md.Topics)
					}
					continue
				}
				ct := kmsg.NewPtrCreateTopicsResponse()
				ct.SetVersion(5)
				corr := readResponse(t, c, ct)
				if corr != want || len(ct.Topics) != 1 || ct.Topics[0].Topic != "refused" ||
					ct.Topics[0].ErrorCode != kcodec.ErrCodeTopicAuthorizationFailed {
					t.Fatalf("create_topics: corr %d (want %d), topics %+v", corr, want, ct.Topics)
				}
			}
			// The connection still works after the refusals.
			if _, err := c.Write(frame(apiVersionsReq(), 5)); err != nil {
				t.Fatal(err)
			}
			if corr := readResponse(t, c, av); corr != 5 {
				t.Fatalf("api_versions after refusal: corr %d", corr)
			}
			if v := s.Counter("kafka.deny.request.denied"); v != 2 {
				t.Errorf("request.denied = %d, want 2", v)
			}
			if v := s.Counter("kafka.deny.request.create_topics_request"); v != 2 {
				t.Errorf("request.create_topics_request = %d, want 2", v)
			}
			if v := s.Counter("kafka.deny.response.create_topics_response"); v != 0 {
				t.Errorf("response.create_topics_response = %d, want 0 (the broker never saw one)", v)
			}
		})
	}
}
