package mysql

import (
	gm "github.com/go-mysql-org/go-mysql/mysql"
)

// headerLen is the size of a packet header: 3-byte length, 1-byte sequence id.
const headerLen = 4

// Message is one logical payload: a packet, or a run of packets of
// MaxPayloadLen bytes ended by a shorter one (payloads of 16 MiB and more).
type Message struct {
	// Seq is the sequence id of the first packet.
	Seq uint8
	// LastSeq is the sequence id of the last packet; the peer answers with
	// LastSeq+1.
	LastSeq uint8
	// Packets is the number of packets the payload spans.
	Packets int
	// Len is the full payload length, whatever the prefix kept.
	Len int64
	// Prefix holds the first min(Len, limit) payload bytes. It aliases the
	// Framer's buffer and stays valid until the next call to Next.
	Prefix []byte
	// Start and End are the stream offsets of the first header byte and just
	// past the last payload byte.
	Start, End int64
}

// Truncated reports whether Prefix is shorter than the payload.
func (m *Message) Truncated() bool { return int64(len(m.Prefix)) < m.Len }

// Framer cuts one direction of a MySQL stream into Messages, incrementally,
// holding only the current header and a bounded payload prefix. The zero
// value is not usable; call NewFramer.
type Framer struct {
	hdr   [headerLen]byte
	nhdr  int
	left  int // payload bytes left in the current packet
	plen  int // length of the current packet
	inMsg bool
	cur   Message
	buf   []byte
	off   int64
}

// NewFramer returns a Framer that keeps at most limit bytes of each payload.
func NewFramer(limit int) *Framer {
	if limit < 0 {
		limit = 0
	}
	return &Framer{buf: make([]byte, 0, limit)}
}

// Offset returns how many stream bytes the Framer has consumed.
func (f *Framer) Offset() int64 { return f.off }

// Reset drops any partial packet; the next byte starts a new header. The
// stream offset keeps counting.
func (f *Framer) Reset() {
	f.nhdr, f.left, f.plen, f.inMsg = 0, 0, 0, false
	f.buf = f.buf[:0]
}

// Next consumes bytes from p until it completes a Message or p is exhausted.
// It returns the Message (nil if none completed) and how many bytes it
// consumed; the caller calls it again with p[n:]. A continuation packet with
// an unexpected sequence id yields a *ProtocolError, after which the payload
// is still followed. The returned Message is valid until the next call.
func (f *Framer) Next(p []byte) (msg *Message, n int, err error) {
	for n < len(p) {
		if f.nhdr < headerLen {
			c := copy(f.hdr[f.nhdr:], p[n:])
			f.nhdr += c
			n += c
			f.off += int64(c)
			if f.nhdr < headerLen {
				return nil, n, nil
			}
			err = f.startPacket()
		}
		if f.left > 0 {
			k := min(f.left, len(p)-n)
			if room := cap(f.buf) - len(f.buf); room > 0 {
				f.buf = append(f.buf, p[n:n+min(k, room)]...)
			}
			f.left -= k
			n += k
			f.off += int64(k)
			if f.left > 0 {
				return nil, n, err
			}
		}
		// Packet complete.
		f.nhdr = 0
		if f.plen == gm.MaxPayloadLen {
			if err != nil {
				return nil, n, err
			}
			continue
		}
		f.inMsg = false
		f.cur.Prefix = f.buf
		f.cur.End = f.off
		return &f.cur, n, err
	}
	return nil, n, err
}

// startPacket decodes the buffered header.
func (f *Framer) startPacket() error {
	f.plen = int(f.hdr[0]) | int(f.hdr[1])<<8 | int(f.hdr[2])<<16
	f.left = f.plen
	seq := f.hdr[3]
	var err error
	if !f.inMsg {
		f.inMsg = true
		f.buf = f.buf[:0]
		f.cur = Message{Seq: seq, Start: f.off - headerLen}
	} else if seq != f.cur.LastSeq+1 {
		err = &ProtocolError{Seq: seq, Reason: "continuation packet out of sequence"}
	}
	f.cur.LastSeq = seq
	f.cur.Packets++
	f.cur.Len += int64(f.plen)
	return err
}
