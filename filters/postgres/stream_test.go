package postgres

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/stats"
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
		if (cn.g != nil) != gated {
			t.Errorf("gated %v: gate state %v", gated, cn.g != nil)
		}
		if cn.g != nil && cap(cn.g.held) > 64<<10 {
			t.Errorf("gated %v: held buffer grew to %d bytes", gated, cap(cn.g.held))
		}
	}
}

// TestGateHoldBoundedByBufferLimit: a statement held for the SQL gates is
// held only up to the listener's per_connection_buffer_limit_bytes; a
// longer one is forwarded as it comes (and a denial at its end closes the
// connection), whatever max_sql_prefix allows.
func TestGateHoldBoundedByBufferLimit(t *testing.T) {
	query := &pgproto3.Query{String: "SELECT * FROM secret WHERE x = '" + strings.Repeat("a", 200<<10) + "'"}
	for _, tc := range []struct {
		name      string
		limit     int
		wantClose bool
	}{
		{"held under the default limit", 0, false},
		{"streamed past a 64 KiB limit", 64 << 10, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := NewConfig()
			cfg.StatPrefix = "t"
			cfg.MaxSQLPrefix = 1 << 20
			f, err := New(cfg, &filters.Env{Stats: stats.New().Root(), Log: slog.New(slog.DiscardHandler), BufferLimit: tc.limit})
			if err != nil {
				t.Fatal(err)
			}
			s := newSession()
			s.AddSQLGate(denyGate{})
			fc := &fakeConn{in: bytes.NewReader(enc(t, startup("db", "u"), query))}
			c, err := f.Observe(s, fc)
			if err != nil {
				t.Fatal(err)
			}
			n, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{c}, make([]byte, 32<<10))
			if closed := errors.Is(err, errDenyClose); closed != tc.wantClose {
				t.Fatalf("forwarded %d bytes, err %v; want close %v", n, err, tc.wantClose)
			}
			if held := cap(c.(*conn).g.held); tc.limit > 0 && held > tc.limit+32<<10 {
				t.Errorf("held buffer grew to %d bytes with a %d-byte limit", held, tc.limit)
			}
		})
	}
}
