package kafka

import (
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

type countingRequests struct{ frames, captured int }

func (c *countingRequests) RequestHeader(f *RequestFrame) bool { return false }
func (c *countingRequests) Request(f *RequestFrame, body []byte) {
	c.frames++
	if body != nil {
		c.captured++
	}
}

// BenchmarkRequestFramerProduce1MiB frames a stream of 1 MiB Produce v9
// requests fed in reads of 4 KiB and 64 KiB, holding only headers. Skipped
// bytes are never touched, so the cost is per read, not per byte.
func BenchmarkRequestFramerProduce1MiB(b *testing.B) {
	var stream []byte
	const frames = 8
	for i := range frames {
		stream = append(stream, produceReq(9, -1, int32(i), 1<<20)...)
	}
	for _, read := range []int{4 << 10, 64 << 10} {
		b.Run(fmt.Sprintf("read=%dKiB", read>>10), func(b *testing.B) {
			h := &countingRequests{}
			fr := NewRequestFramer(Limits{}, h)
			b.SetBytes(int64(len(stream)))
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				for in := stream; len(in) > 0; {
					k := min(read, len(in))
					if _, err := fr.Write(in[:k]); err != nil {
						b.Fatal(err)
					}
					in = in[k:]
				}
				n++
			}
			if h.frames != frames*n {
				b.Fatalf("framed %d, want %d", h.frames, frames*n)
			}
		})
	}
}

type countingResponses struct{ n int }

func (c *countingResponses) ResponseHeader(*ResponseFrame) bool { return false }
func (c *countingResponses) Response(*ResponseFrame, []byte)    { c.n++ }

// BenchmarkResponseFramerSmall frames small flexible responses one per
// write, with an Expect per response: the per-request overhead.
func BenchmarkResponseFramerSmall(b *testing.B) {
	hb := kmsg.NewPtrHeartbeatResponse()
	hb.SetVersion(4)
	frame := AppendResponseFrame(nil, 12, 4, 1, hb.AppendTo(nil))
	fr := NewResponseFramer(Limits{}, &countingResponses{})
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		if err := fr.Expect(1, 12, 4, 0); err != nil {
			b.Fatal(err)
		}
		if _, err := fr.Write(frame); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRewriteMetadata rewrites a Metadata v12 response of 3 brokers
// and 100 topics of 12 partitions.
func BenchmarkRewriteMetadata(b *testing.B) {
	r := kmsg.NewPtrMetadataResponse()
	r.SetVersion(12)
	for i := int32(0); i < 3; i++ {
		r.Brokers = append(r.Brokers, kmsg.MetadataResponseBroker{NodeID: i, Host: "broker.example", Port: 9092})
	}
	for i := range 100 {
		t := kmsg.NewMetadataResponseTopic()
		t.Topic = kmsg.StringPtr("topic-" + string(rune('a'+i%26)))
		for p := int32(0); p < 12; p++ {
			pt := kmsg.NewMetadataResponseTopicPartition()
			pt.Partition, pt.Replicas, pt.ISR = p, []int32{0, 1, 2}, []int32{0, 1, 2}
			t.Partitions = append(t.Partitions, pt)
		}
		r.Topics = append(r.Topics, t)
	}
	body := r.AppendTo(nil)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := RewriteMetadata(12, body, relayAddr); err != nil {
			b.Fatal(err)
		}
	}
}
