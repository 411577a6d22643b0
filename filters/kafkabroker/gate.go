package kafkabroker

import (
	"encoding/binary"
	"math"
)

// gateHead is what the gate must see of a frame to decide on it: the 4-byte
// size and the 2-byte API key.
const gateHead = 6

// gate drops refused request frames from the client stream in place. It
// reads only sizes and API keys; codec/kafka's framer, fed the same bytes,
// decodes the headers. A frame start split across reads is held back (at
// most gateHead-1 bytes) until its API key is known.
type gate struct {
	refused func(key int16) bool
	rem     int64 // bytes left in the current frame
	drop    bool  // the current frame is dropped
	held    [gateHead]byte
	nheld   int
}

// filter compacts b in place to the bytes to forward and returns their
// count. b must start with the bytes returned by takeHeld.
func (g *gate) filter(b []byte) int {
	w, i := 0, 0
	for i < len(b) {
		if g.rem > 0 {
			k := int(min(g.rem, int64(len(b)-i)))
			if !g.drop {
				w += copy(b[w:], b[i:i+k])
			}
			i += k
			g.rem -= int64(k)
			continue
		}
		if len(b)-i < gateHead {
			g.nheld = copy(g.held[:], b[i:])
			break
		}
		size := int32(binary.BigEndian.Uint32(b[i:]))
		g.rem = 4 + int64(size)
		g.drop = false
		if size >= 2 {
			g.drop = g.refused(int16(binary.BigEndian.Uint16(b[i+4:])))
		} else if size < 0 {
			g.rem = math.MaxInt64 // the framer fails the stream; pass the rest
		}
	}
	return w
}

// takeHeld copies the held bytes to the start of p and returns their count.
func (g *gate) takeHeld(p []byte) int {
	n := copy(p, g.held[:g.nheld])
	g.nheld = 0
	return n
}
