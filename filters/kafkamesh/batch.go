package kafkamesh

import (
	"encoding/binary"
	"hash/crc32"

	"github.com/twmb/franz-go/pkg/kerr"
)

// Offsets in a record batch (magic 2) of the fields the mesh rewrites; the
// CRC-32C at batchCRC covers everything from batchAttributes to the end.
const (
	batchLength     = 8
	batchMagic      = 16
	batchCRC        = 17
	batchAttributes = 21
	batchProducerID = 43
	batchEpoch      = 51
	batchHeader     = 61 // through the record count
)

var crc32c = crc32.MakeTable(crc32.Castagnoli)

// rewriteProducer walks the record batches of one partition in place and,
// for each batch with a producer id, replaces its producer id and epoch with
// what fn returns and recomputes the batch's CRC. Batches without a producer
// id (-1) are left alone. It returns 0, fn's first non-zero code, or
// CORRUPT_MESSAGE for bytes that are not whole v2 batches (Produce v3+ carry
// only those).
func rewriteProducer(records []byte, fn func(id int64, epoch int16) (int64, int16, int16)) int16 {
	for len(records) > 0 {
		if len(records) < batchHeader {
			return kerr.CorruptMessage.Code
		}
		n := int64(int32(binary.BigEndian.Uint32(records[batchLength:]))) + 12
		if n < batchHeader || n > int64(len(records)) || records[batchMagic] != 2 {
			return kerr.CorruptMessage.Code
		}
		b := records[:n]
		records = records[n:]
		id := int64(binary.BigEndian.Uint64(b[batchProducerID:]))
		if id < 0 {
			continue
		}
		newID, epoch, code := fn(id, int16(binary.BigEndian.Uint16(b[batchEpoch:])))
		if code != 0 {
			return code
		}
		binary.BigEndian.PutUint64(b[batchProducerID:], uint64(newID))
		binary.BigEndian.PutUint16(b[batchEpoch:], uint16(epoch))
		binary.BigEndian.PutUint32(b[batchCRC:], crc32.Checksum(b[batchAttributes:], crc32c))
	}
	return 0
}
