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
	// Framer's buffer or, when the whole packet was in one chunk, that chunk:
	// it stays valid until the next call to Next and while the chunk does.
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
//
// A packet that starts a message and lies whole in p (the common case for
// rows and commands) is framed in place: its header is read from p and its
// Prefix aliases p, so a result set's rows cost no copy.
func (f *Framer) Next(p []byte) (msg *Message, n int, err error) {
	if m := f.whole(p); m != nil {
		return m, headerLen + int(m.Len), nil
	}
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

// Partial reports the sequence id of a message whose first header has been
// read but whose payload has not all arrived yet; ok is false between
// messages. It lets a caller judge a header at once instead of waiting for a
// payload of up to 16 MiB that a confused peer may never send.
func (f *Framer) Partial() (seq uint8, ok bool) { return f.cur.Seq, f.inMsg }

// InPacket reports whether the Framer stands inside a packet: part of a
// header, or a header whose payload has not all arrived.
func (f *Framer) InPacket() bool { return f.nhdr > 0 || f.left > 0 }

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

// whole frames a single-packet message lying whole at the start of p without
// copying it, or returns nil when p does not start with one (a header split
// across chunks, a payload continuing past p, a 16 MiB packet).
func (f *Framer) whole(p []byte) *Message {
	if f.nhdr != 0 || f.inMsg || len(p) < headerLen {
		return nil
	}
	plen := int(p[0]) | int(p[1])<<8 | int(p[2])<<16
	if plen == gm.MaxPayloadLen || len(p)-headerLen < plen {
		return nil
	}
	// Field by field: a composite literal is built on the stack and copied
	// with wide loads that stall on its narrow stores (store forwarding).
	m := &f.cur
	m.Seq, m.LastSeq, m.Packets, m.Len = p[3], p[3], 1, int64(plen)
	m.Prefix = p[headerLen : headerLen+min(plen, cap(f.buf))]
	m.Start = f.off
	f.off += int64(headerLen + plen)
	m.End = f.off
	return m
}
