package mysql

import (
	"bytes"
	"errors"
	"testing"

	gm "github.com/go-mysql-org/go-mysql/mysql"
)

type frame struct {
	seq, last uint8
	packets   int
	length    int64
	prefix    int
	end       int64
}

// frames runs a Framer over input in chunks of size chunk (0: whole).
func frames(input []byte, limit, chunk int) (out []frame, errs int) {
	f := NewFramer(limit)
	for len(input) > 0 {
		n := len(input)
		if chunk > 0 {
			n = min(n, chunk)
		}
		p := input[:n]
		input = input[n:]
		for len(p) > 0 {
			m, k, err := f.Next(p)
			p = p[k:]
			var pe *ProtocolError
			if errors.As(err, &pe) {
				errs++
			}
			if m != nil {
				out = append(out, frame{m.Seq, m.LastSeq, m.Packets, m.Len, len(m.Prefix), m.End})
			}
		}
	}
	return out, errs
}

func TestFramer(t *testing.T) {
	big := bytes.Repeat([]byte{'q'}, gm.MaxPayloadLen+10)
	exact := bytes.Repeat([]byte{'q'}, gm.MaxPayloadLen)
	broken := pkt(0, big)
	broken[gm.MaxPayloadLen+4+3] = 5 // second packet's sequence id
	tests := []struct {
		name     string
		input    []byte
		limit    int
		want     []frame
		wantErrs int
	}{
		{name: "two packets", input: append(pkt(0, []byte("abc")), pkt(1, nil)...), limit: 8,
			want: []frame{{0, 0, 1, 3, 3, 7}, {1, 1, 1, 0, 0, 11}}},
		{name: "prefix is bounded", input: pkt(3, []byte("0123456789")), limit: 4,
			want: []frame{{3, 3, 1, 10, 4, 14}}},
		{name: "16 MiB payload spans two packets", input: pkt(0, big), limit: 16,
			want: []frame{{0, 1, 2, int64(len(big)), 16, int64(len(big) + 8)}}},
		{name: "exact 16 MiB payload ends with an empty packet", input: pkt(0, exact), limit: 16,
			want: []frame{{0, 1, 2, int64(len(exact)), 16, int64(len(exact) + 8)}}},
		{name: "continuation out of sequence", input: broken, limit: 16,
			want: []frame{{0, 5, 2, int64(len(big)), 16, int64(len(big) + 8)}}, wantErrs: 1},
		{name: "zero bytes after a split header are not a packet", input: append(pkt(0, []byte("x")), pkt(0, make([]byte, 4))...),
			limit: 8, want: []frame{{0, 0, 1, 1, 1, 5}, {0, 0, 1, 4, 4, 13}}},
		{name: "partial header yields nothing", input: []byte{1, 0}, limit: 16},
	}
	for _, tt := range tests {
		// gm.MaxPayloadLen+4 cuts right before a continuation's header.
		for _, chunk := range []int{0, 1, 3, 6, 4093, gm.MaxPayloadLen + 4} {
			if chunk < 8 && chunk > 0 && len(tt.input) > 1<<20 {
				continue // tiny chunks over 16 MiB are slow and add nothing
			}
			got, errs := frames(tt.input, tt.limit, chunk)
			if !equalFrames(got, tt.want) || errs != tt.wantErrs {
				t.Errorf("%s (chunk %d): got %+v errs %d, want %+v errs %d", tt.name, chunk, got, errs, tt.want, tt.wantErrs)
			}
		}
	}
}

func equalFrames(a, b []frame) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestFramerPrefixContent(t *testing.T) {
	f := NewFramer(5)
	m, n, err := f.Next(pkt(9, []byte("hello world")))
	if err != nil || m == nil || n != 15 {
		t.Fatalf("Next = %v, %d, %v", m, n, err)
	}
	if string(m.Prefix) != "hello" || !m.Truncated() || m.Start != 0 {
		t.Errorf("prefix %q truncated %t start %d", m.Prefix, m.Truncated(), m.Start)
	}
}

func TestHugeQueryKeepsPrefixOnly(t *testing.T) {
	sql := append([]byte("SELECT '"), bytes.Repeat([]byte{'x'}, gm.MaxPayloadLen+100)...)
	var got []string
	var truncated bool
	s := NewSession(Config{SQLPrefix: 16}, func(ev *Event) {
		got = append(got, short(ev))
		truncated = truncated || ev.Truncated
	})
	for _, st := range handshake(baseCaps) {
		s.Feed(st.dir, st.data)
	}
	s.Feed(ClientToServer, pkt(0, append([]byte{gm.COM_QUERY}, sql...)))
	s.Feed(ServerToClient, pkt(2, okPayload(0, 2))) // the reply follows the last packet
	want := `command/0 query "SELECT 'xxxxxxxx" truncated`
	if len(got) != 5 || got[3] != want || got[4] != "ok/2 query affected=0" {
		t.Errorf("events %q", got)
	}
	if c := cap(s.fr[0].buf); c > minPrefix {
		t.Errorf("framer buffer grew to %d bytes", c)
	}
}
