package postgres

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"
)

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestCopyStreamsBounded passes a 64 MiB CopyData through the filter, gated
// and not, and checks that nothing holds the message.
func TestCopyStreamsBounded(t *testing.T) {
	const size = 64 << 20
	for _, gated := range []bool{false, true} {
		f, _ := newTestFilter(t, nil)
		s := newSession()
		if gated {
			s.AddSQLGate(denyGate{})
		}
		hdr := []byte{'d', 0, 0, 0, 0}
		binary.BigEndian.PutUint32(hdr[1:], size+4)
		in := io.MultiReader(bytes.NewReader(enc(t, startup("db", "u"), &pgproto3.Query{String: "COPY t FROM STDIN"})),
			bytes.NewReader(hdr), io.LimitReader(zeros{}, size), bytes.NewReader(enc(t, &pgproto3.CopyDone{})))
		fc := &fakeConn{in: in}
		c, err := f.Observe(s, fc)
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{c}, make([]byte, 32<<10))
		if err != nil {
			t.Fatal(err)
		}
		cn := c.(*conn)
		if want := int64(len(enc(t, startup("db", "u"), &pgproto3.Query{String: "COPY t FROM STDIN"}))) + 5 + size + 5; n != want {
			t.Errorf("gated %v: forwarded %d bytes, want %d", gated, n, want)
		}
		if r, b := cn.pair.Frontend.Retained(), f.codec.Bound(); r > b {
			t.Errorf("gated %v: decoder retains %d bytes, bound %d", gated, r, b)
		}
		if cap(cn.held) > 64<<10 {
			t.Errorf("gated %v: held buffer grew to %d bytes", gated, cap(cn.held))
		}
	}
}
