package postgres

import (
	"bytes"
	"testing"
)

// shapeKeyByByte is the byte-at-a-time shapeKey that the table-driven one
// replaced; FuzzShapeKey holds the two to the same output.
func shapeKeyByByte(dst, sql []byte) ([]byte, bool) {
	if len(sql) > 4096 {
		return nil, false
	}
	prevIdent := false
	for i := 0; i < len(sql); i++ {
		b := sql[i]
		if b == '"' {
			return nil, false
		}
		if b >= '0' && b <= '9' && !prevIdent {
			for i+1 < len(sql) && sql[i+1] >= '0' && sql[i+1] <= '9' {
				i++
			}
			dst = append(dst, '0')
			prevIdent = true
			continue
		}
		dst = append(dst, b)
		prevIdent = b == '_' || b == '$' || b >= 0x80 || (b|0x20 >= 'a' && b|0x20 <= 'z') || (b >= '0' && b <= '9')
	}
	return dst, true
}

// FuzzShapeKey: shapeKey gives what the byte-at-a-time version gives, for
// any text, appended to any prefix. Seeds are pgbench's statements.
func FuzzShapeKey(f *testing.F) {
	for _, s := range []string{
		"SELECT abalance FROM pgbench_accounts WHERE aid = 48213;",
		"UPDATE pgbench_accounts SET abalance = abalance + -4012 WHERE aid = 871;",
		"INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (7, 1, 8121, 2501, CURRENT_TIMESTAMP);",
		`SELECT "t 1".x1 FROM "t 1"`, "SELECT $1, 2.5e10, t22.c3 FROM t22", "\xc3\xa91 1\xff2",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, sql []byte) {
		got, ok := shapeKey([]byte("p"), sql)
		want, wantOK := shapeKeyByByte([]byte("p"), sql)
		if ok != wantOK || (ok && !bytes.Equal(got, want)) {
			t.Fatalf("shapeKey(%q) = %q, %v; byte by byte %q, %v", sql, got, ok, want, wantOK)
		}
	})
}

// BenchmarkShapeKey is the key of a pgbench -S statement.
func BenchmarkShapeKey(b *testing.B) {
	sql := []byte("SELECT abalance FROM pgbench_accounts WHERE aid = 48213;")
	var buf [256]byte
	b.ReportAllocs()
	for b.Loop() {
		shapeKey(buf[:0], sql)
	}
}
