package postgres

import (
	"io"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"
)

// loopReader returns msg again and again, one message per Read.
type loopReader struct{ msg []byte }

func (l *loopReader) Read(p []byte) (int, error) { return copy(p, l.msg), nil }

// benchQuery measures one pgbench -S style round trip through the filter:
// the client's Query read and the server's answer written.
func benchQuery(b *testing.B, parse, gated bool) {
	benchStatement(b, parse, gated, "SELECT abalance FROM pgbench_accounts WHERE aid = 48213;")
}

// benchStatement is benchQuery for any SQL; the server's answer is the same.
func benchStatement(b *testing.B, parse, gated bool, sql string) {
	f, _ := newTestFilter(b, func(c *Config) { c.EnableSQLParsing = &parse })
	s := newSession()
	if gated {
		s.AddSQLGate(denyGate{})
	}
	q := enc(b, &pgproto3.Query{String: sql})
	fc := &fakeConn{in: io.MultiReader(bytesReader(enc(b, startup("db", "u"))), &loopReader{q})}
	c, err := f.Observe(s, fc)
	if err != nil {
		b.Fatal(err)
	}
	answer := enc(b, &pgproto3.RowDescription{Fields: []pgproto3.FieldDescription{{Name: []byte("abalance"), DataTypeOID: 23, DataTypeSize: 4}}},
		&pgproto3.DataRow{Values: [][]byte{[]byte("0")}}, &pgproto3.CommandComplete{CommandTag: []byte("SELECT 1")},
		&pgproto3.ReadyForQuery{TxStatus: 'I'})
	buf := make([]byte, 32<<10)
	c.Read(buf) // startup
	c.Write(enc(b, &pgproto3.AuthenticationOk{}, &pgproto3.ReadyForQuery{TxStatus: 'I'}))
	b.ReportAllocs()
	b.SetBytes(int64(len(q) + len(answer)))
	b.ResetTimer()
	for range b.N {
		if _, err := c.Read(buf); err != nil {
			b.Fatal(err)
		}
		fc.out.Reset()
		if _, err := c.Write(answer); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkQueryNoParse(b *testing.B)     { benchQuery(b, false, false) }
func BenchmarkQueryParseCached(b *testing.B) { benchQuery(b, true, false) }
func BenchmarkQueryGated(b *testing.B)       { benchQuery(b, true, true) }

// BenchmarkQueryDenied is a denied Query replaced by the DO block.
func BenchmarkQueryDenied(b *testing.B) {
	benchStatement(b, true, true, "SELECT abalance FROM secret WHERE aid = 48213;")
}

// BenchmarkParseUncached is the libpg_query cost the cache saves.
func BenchmarkParseUncached(b *testing.B) {
	b.ReportAllocs()
	for range b.N {
		pc := newParseCache(16)
		if _, _, err := pc.parse([]byte("SELECT abalance FROM pgbench_accounts WHERE aid = 48213;")); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCopyData streams 32 KiB CopyData chunks through the decoder.
func BenchmarkCopyData(b *testing.B) {
	f, _ := newTestFilter(b, nil)
	fc := &fakeConn{in: bytesReader(enc(b, startup("db", "u")))}
	c, err := f.Observe(newSession(), fc)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 64)
	c.Read(buf)
	chunk := make([]byte, 32<<10)
	hdr := []byte{'d', 0x7f, 0xff, 0xff, 0xff} // one ~2 GiB CopyData... capped below
	hdr[1] = 0x3f
	c.Write(enc(b, &pgproto3.AuthenticationOk{}, &pgproto3.ReadyForQuery{TxStatus: 'I'}, &pgproto3.CopyOutResponse{}))
	c.Write(hdr)
	b.SetBytes(int64(len(chunk)))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		fc.out.Reset()
		if _, err := c.Write(chunk); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPrepared is one pgbench -S -M prepared transaction through the
// filter: the client's Bind, Execute and Sync for a statement prepared
// once, and the server's BindComplete, DataRow, CommandComplete and
// ReadyForQuery. No SQL text passes: what it measures is the framing,
// the counters and the per-message work that every message pays.
func BenchmarkPrepared(b *testing.B) {
	f, _ := newTestFilter(b, nil)
	prep := enc(b, &pgproto3.Parse{Name: "P0_1", Query: "SELECT abalance FROM pgbench_accounts WHERE aid = $1;"},
		&pgproto3.Sync{})
	tx := enc(b, &pgproto3.Bind{PreparedStatement: "P0_1", ParameterFormatCodes: []int16{1},
		Parameters: [][]byte{{0, 0, 0xbc, 0x55}}, ResultFormatCodes: []int16{1}},
		&pgproto3.Execute{}, &pgproto3.Sync{})
	fc := &fakeConn{in: io.MultiReader(bytesReader(enc(b, startup("db", "u"))), bytesReader(prep), &loopReader{tx})}
	c, err := f.Observe(newSession(), fc)
	if err != nil {
		b.Fatal(err)
	}
	answer := enc(b, &pgproto3.BindComplete{}, &pgproto3.DataRow{Values: [][]byte{{0, 0, 0, 0}}},
		&pgproto3.CommandComplete{CommandTag: []byte("SELECT 1")}, &pgproto3.ReadyForQuery{TxStatus: 'I'})
	buf := make([]byte, 32<<10)
	c.Read(buf) // startup
	c.Write(enc(b, &pgproto3.AuthenticationOk{}, &pgproto3.ReadyForQuery{TxStatus: 'I'}))
	c.Read(buf) // Parse, Sync
	c.Write(enc(b, &pgproto3.ParseComplete{}, &pgproto3.ReadyForQuery{TxStatus: 'I'}))
	b.ReportAllocs()
	b.SetBytes(int64(len(tx) + len(answer)))
	for b.Loop() {
		if _, err := c.Read(buf); err != nil {
			b.Fatal(err)
		}
		fc.out.Reset()
		if _, err := c.Write(answer); err != nil {
			b.Fatal(err)
		}
	}
	if got := f.stats.Statements.Value(); got != uint64(b.N) {
		b.Fatalf("statements = %d, want %d", got, b.N)
	}
}
