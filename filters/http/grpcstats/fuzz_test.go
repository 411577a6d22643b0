package grpcstats

import (
	"encoding/binary"
	"testing"
)

// whole counts the messages of a complete buffer at once.
func whole(b []byte) uint64 {
	var n uint64
	for len(b) >= 5 {
		n++
		l := uint64(binary.BigEndian.Uint32(b[1:5]))
		b = b[5:]
		if uint64(len(b)) < l {
			break
		}
		b = b[l:]
	}
	return n
}

// FuzzFrameCounter checks that counting a stream in pieces, wherever it
// is cut, agrees with counting it whole. Seeds shaped like grpc-go's frames: an
// empty message, a 103-byte one, and a truncated 4 GiB prefix.
func FuzzFrameCounter(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0}, uint8(1))
	f.Add(append([]byte{0, 0, 0, 0, 0x67, 0x12, 0x66}, make([]byte, 101)...), uint8(3))
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 1, 2}, uint8(2))
	f.Fuzz(func(t *testing.T, b []byte, cut uint8) {
		var c frameCounter
		step := int(cut%16) + 1
		for i := 0; i < len(b); i += step {
			c.feed(b[i:min(i+step, len(b))])
		}
		if want := whole(b); c.n != want {
			t.Fatalf("in pieces of %d: %d messages, whole: %d", step, c.n, want)
		}
	})
}
