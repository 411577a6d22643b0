package kafkamesh

import (
	"hash/crc32"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// testBatch encodes a v2 record batch of producer id/epoch with a valid CRC.
func testBatch(id int64, epoch int16) []byte {
	rb := kmsg.RecordBatch{Magic: 2, ProducerID: id, ProducerEpoch: epoch, FirstSequence: 7, NumRecords: 1,
		Records: []byte{1, 2, 3, 4}}
	b := rb.AppendTo(nil)
	rb.Length = int32(len(b) - 12)
	b = rb.AppendTo(nil)
	rb.CRC = int32(crc32.Checksum(b[batchAttributes:], crc32c))
	return rb.AppendTo(nil)
}

func TestRewriteProducer(t *testing.T) {
	to := func(id int64, epoch int16) (int64, int16, int16) { return id + 1000, epoch + 3, 0 }
	for _, tc := range []struct {
		name     string
		input    []byte
		want     []kmsg.RecordBatch // producer id and epoch of each batch after
		wantCode int16
	}{
		{"one batch", testBatch(5, 0), []kmsg.RecordBatch{{ProducerID: 1005, ProducerEpoch: 3}}, 0},
		{"two batches", append(testBatch(5, 1), testBatch(6, 2)...),
			[]kmsg.RecordBatch{{ProducerID: 1005, ProducerEpoch: 4}, {ProducerID: 1006, ProducerEpoch: 5}}, 0},
		{"not idempotent", testBatch(-1, -1), []kmsg.RecordBatch{{ProducerID: -1, ProducerEpoch: -1}}, 0},
		{"empty", nil, nil, 0},
		{"short", testBatch(5, 0)[:40], nil, kerr.CorruptMessage.Code},
		{"length past the end", append(testBatch(5, 0), 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 0, 0, 0), nil, kerr.CorruptMessage.Code},
		{"magic 1", func() []byte { b := testBatch(5, 0); b[batchMagic] = 1; return b }(), nil, kerr.CorruptMessage.Code},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := append([]byte(nil), tc.input...)
			if code := rewriteProducer(b, to); code != tc.wantCode {
				t.Fatalf("code %d, want %d", code, tc.wantCode)
			}
			if tc.wantCode != 0 {
				return
			}
			for i, w := range tc.want {
				var rb kmsg.RecordBatch
				if err := rb.ReadFrom(b); err != nil {
					t.Fatalf("batch %d: %v", i, err)
				}
				n := 12 + int(rb.Length)
				if rb.ProducerID != w.ProducerID || rb.ProducerEpoch != w.ProducerEpoch || rb.FirstSequence != 7 {
					t.Errorf("batch %d: producer %d epoch %d seq %d, want %d %d 7", i, rb.ProducerID, rb.ProducerEpoch, rb.FirstSequence, w.ProducerID, w.ProducerEpoch)
				}
				if crc := int32(crc32.Checksum(b[batchAttributes:n], crc32c)); crc != rb.CRC {
					t.Errorf("batch %d: CRC %x, computed %x", i, rb.CRC, crc)
				}
				b = b[n:]
			}
		})
	}
}

func TestProducersBounded(t *testing.T) {
	ps := newProducers()
	first := ps.issue(-1)
	second := ps.issue(-1)
	if again := ps.issue(second); ps.get(second) != nil || ps.get(again) == nil {
		t.Fatal("a re-init did not replace the producer id it named")
	}
	for i := 0; i < maxProducers+10; i++ {
		ps.issue(-1)
	}
	if ps.get(first) != nil {
		t.Error("the oldest producer id survived past maxProducers")
	}
	if len(ps.byID) > maxProducers || len(ps.order) > 2*maxProducers+1 {
		t.Errorf("table of %d ids, order of %d", len(ps.byID), len(ps.order))
	}
}
