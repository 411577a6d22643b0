package mysql

// maxPayload is the payload length of a packet that another one continues.
const maxPayload = 1<<24 - 1

// tracker follows packet and message boundaries of one byte stream as it
// arrives in chunks. A message is a packet, or a run of maxPayload-byte
// packets ended by a shorter one.
type tracker struct {
	hdr   [4]byte
	nhdr  int
	left  int  // payload bytes left in the current packet
	cont  bool // the current packet is maxPayload long
	inMsg bool
	// first is the first packet's payload length and seq its sequence id,
	// valid once known is set.
	first int
	seq   uint8
	known bool
}

// next consumes the bytes of p that belong to the current message and
// reports how many, and whether they complete it.
func (t *tracker) next(p []byte) (n int, done bool) {
	for n < len(p) {
		if t.nhdr < len(t.hdr) {
			k := copy(t.hdr[t.nhdr:], p[n:])
			t.nhdr += k
			n += k
			if t.nhdr < len(t.hdr) {
				return n, false
			}
			plen := int(t.hdr[0]) | int(t.hdr[1])<<8 | int(t.hdr[2])<<16
			if !t.inMsg {
				t.inMsg, t.known, t.first, t.seq = true, true, plen, t.hdr[3]
			}
			t.left, t.cont = plen, plen == maxPayload
		}
		k := min(t.left, len(p)-n)
		t.left -= k
		n += k
		if t.left > 0 {
			return n, false
		}
		t.nhdr = 0
		if !t.cont {
			t.inMsg, t.known = false, false
			return n, true
		}
	}
	return n, false
}

// fits reports whether the current message is known to be one packet of
// at most limit payload bytes; false while its header is incomplete.
func (t *tracker) fits(limit int) bool {
	return t.known && t.first < maxPayload && t.first <= limit
}

// idle reports whether the tracker stands between messages.
func (t *tracker) idle() bool { return !t.inMsg && t.nhdr == 0 }
