package postgres

import (
	"bytes"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"
)

// benchFeed feeds stream to d in reads of size chunk, b.N times.
func benchFeed(b *testing.B, dir Direction, stream []byte, chunk int) {
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	emit := func(*Message) error { return nil }
	pieces := chunked(stream, chunk)
	d := NewDecoder(dir, Config{})
	if dir == Frontend {
		d.st = stHeader // the streams start after the startup phase
	}
	b.ResetTimer()
	for b.Loop() {
		for _, p := range pieces {
			if err := d.Feed(p, emit); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkFrontendSmallQueries is a client sending short simple queries, as
// read 16 KiB at a time.
func BenchmarkFrontendSmallQueries(b *testing.B) {
	s := bytes.Repeat(enc(b, &pgproto3.Query{String: "SELECT id, name, email FROM users WHERE id = 42"}), 1000)
	benchFeed(b, Frontend, s, 16<<10)
}

// BenchmarkFrontendExtended is a client running a prepared statement:
// Bind, Execute, Sync per query.
func BenchmarkFrontendExtended(b *testing.B) {
	one := enc(b, &pgproto3.Bind{PreparedStatement: "stmt1", Parameters: [][]byte{[]byte("42")}, ResultFormatCodes: []int16{1}},
		&pgproto3.Describe{ObjectType: 'P'}, &pgproto3.Execute{}, &pgproto3.Sync{})
	benchFeed(b, Frontend, bytes.Repeat(one, 1000), 16<<10)
}

// BenchmarkBackendSmallResults is a server answering one-row queries:
// RowDescription, DataRow, CommandComplete, ReadyForQuery.
func BenchmarkBackendSmallResults(b *testing.B) {
	one := enc(b,
		&pgproto3.RowDescription{Fields: []pgproto3.FieldDescription{{Name: []byte("id"), DataTypeOID: 23, DataTypeSize: 4}, {Name: []byte("name"), DataTypeOID: 25, DataTypeSize: -1}}},
		&pgproto3.DataRow{Values: [][]byte{[]byte("42"), []byte("alice")}},
		&pgproto3.CommandComplete{CommandTag: []byte("SELECT 1")},
		&pgproto3.ReadyForQuery{TxStatus: 'I'})
	benchFeed(b, Backend, bytes.Repeat(one, 1000), 16<<10)
}

// BenchmarkBackendLargeDataRows is a server streaming 1 MiB DataRows, read
// 32 KiB at a time: the decoder must skip them without buffering.
func BenchmarkBackendLargeDataRows(b *testing.B) {
	row := enc(b, &pgproto3.DataRow{Values: [][]byte{bytes.Repeat([]byte("x"), 1<<20)}})
	benchFeed(b, Backend, bytes.Repeat(row, 16), 32<<10)
}
