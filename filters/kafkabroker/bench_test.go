package kafkabroker

import (
	"bytes"
	"io"
	"log/slog"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluice-proxy/sluice/filters"
)

// produceStream is n Produce v9 requests of about 16 KiB each.
func produceStream(n int) []byte {
	var out []byte
	for i := 0; i < n; i++ {
		q := kmsg.NewPtrProduceRequest()
		q.SetVersion(9)
		q.Acks, q.TimeoutMillis = -1, 1000
		tp := kmsg.NewProduceRequestTopic()
		tp.Topic = "bench"
		p := kmsg.NewProduceRequestTopicPartition()
		p.Records = bytes.Repeat([]byte{'x'}, 16<<10)
		tp.Partitions = append(tp.Partitions, p)
		q.Topics = append(q.Topics, tp)
		out = append(out, reqFrame(q, int32(i))...)
	}
	return out
}

// BenchmarkRead is the client-to-broker path: framing, counting and
// registering Produce requests (with a refusal list, so the gate runs).
func BenchmarkRead(b *testing.B) {
	stream := produceStream(64)
	f := testFilter(b, &Config{StatPrefix: "b", APIKeysDenied: []uint32{19}})
	buf := make([]byte, 32<<10)
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for b.Loop() {
		fc := &fakeConn{in: bytes.NewReader(stream)}
		k := newConn(f, &filters.Session{Log: slog.New(slog.DiscardHandler)}, fc)
		for {
			if _, err := k.Read(buf); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkWrite is the broker-to-client path for small responses: matching,
// counting and timing, passing bytes through.
func BenchmarkWrite(b *testing.B) {
	const n = 256
	var reqs, resps []byte
	for i := int32(0); i < n; i++ {
		q, r := apiVersionsPair(i)
		reqs, resps = append(reqs, q...), append(resps, r...)
	}
	f := testFilter(b, &Config{StatPrefix: "b"})
	fc := &fakeConn{}
	k := newConn(f, &filters.Session{Log: slog.New(slog.DiscardHandler)}, fc)
	buf := make([]byte, 32<<10)
	b.SetBytes(int64(len(resps)))
	b.ReportAllocs()
	for b.Loop() {
		fc.in = bytes.NewReader(reqs)
		for {
			if _, err := k.Read(buf); err == io.EOF {
				break
			}
		}
		fc.out.Reset()
		for rest := resps; len(rest) > 0; {
			m := min(len(rest), 4096)
			if _, err := k.Write(rest[:m]); err != nil {
				b.Fatal(err)
			}
			rest = rest[m:]
		}
	}
}
