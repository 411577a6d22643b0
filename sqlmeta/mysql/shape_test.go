package mysql

import (
	"os"
	"strings"
	"testing"
)

func TestAppendShape(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		want    string
		wantErr bool // ok is false
	}{
		{name: "point select", input: "SELECT c FROM sbtest1 WHERE id=3483", want: "SELECT c FROM sbtest1 WHERE id=0"},
		{name: "range", input: "SELECT c FROM t WHERE id BETWEEN 681 AND 780", want: "SELECT c FROM t WHERE id BETWEEN 0 AND 0"},
		{name: "negative and in list", input: "DELETE FROM t WHERE a=-5 OR b IN (1,22,333)", want: "DELETE FROM t WHERE a=-0 OR b IN (0,0,0)"},
		{name: "identifier digits stay", input: "SELECT t1.a2 FROM db3.t1, 2024_orders, t$9", want: "SELECT t1.a2 FROM db3.t1, 2024_orders, t$9"},
		{name: "number after a dot is a name", input: "SELECT * FROM db. 123 JOIN db./* x */456", want: "SELECT * FROM db. 123 JOIN db. 456"},
		{name: "decimal, float, hex, bit stay", input: "SELECT 1.5, .5, 1e5, 0x1f, 0b101, 7", want: "SELECT 1.5, .5, 1e5, 0x1f, 0b101, 0"},
		{name: "strings and quoted names stay", input: "SELECT '1', \"2\", `3` FROM `t 4` WHERE a='it''s 5' AND b='\\' 6'", want: "SELECT '1', \"2\", `3` FROM `t 4` WHERE a='it''s 5' AND b='\\' 6'"},
		{name: "user variables stay", input: "SELECT @1, @@x, 2", want: "SELECT @1, @@x, 0"},
		{name: "comments become spaces", input: "SELECT /* 1 */ 2 -- 3\n# 4\n, 5--6", want: "SELECT   0  \n \n, 0--0"},
		{name: "dash dash at end is a comment", input: "SELECT 1 --", want: "SELECT 0  "},
		{name: "huge number stays", input: "SELECT 1234567890123456789", want: "SELECT 1234567890123456789"},
		{name: "unterminated string stays verbatim", input: "SELECT 'abc 1", want: "SELECT 'abc 1"},
		{name: "executable comment", input: "SELECT /*!40001 SQL_NO_CACHE */ 1", wantErr: true},
		{name: "optimizer hint", input: "SELECT /*+ MAX_EXECUTION_TIME(1) */ 1", wantErr: true},
		{name: "tidb comment", input: "SELECT /*T![x] 1 */ 1", wantErr: true},
		{name: "unterminated comment", input: "SELECT 1 /* x", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := AppendShape([]byte("k:"), tt.input)
			if ok == tt.wantErr {
				t.Fatalf("ok = %t, wantErr %t", ok, tt.wantErr)
			}
			if !ok {
				if string(got) != "k:" {
					t.Errorf("dst changed on failure: %q", got)
				}
				return
			}
			if string(got) != "k:"+tt.want {
				t.Errorf("got %q\nwant %q", got[2:], tt.want)
			}
		})
	}
}

// FuzzShape checks AppendShape's promise: changing any blanked literal
// keeps the shape and the parse (kinds, tables, success).
func FuzzShape(f *testing.F) {
	src, err := os.ReadFile("testdata/corpus.sql")
	if err != nil {
		f.Fatal(err)
	}
	for _, line := range strings.Split(string(src), "\n") {
		if line != "" && !strings.HasPrefix(line, "-- ") {
			f.Add(line, "7")
		}
	}
	f.Add("SELECT c FROM sbtest1 WHERE id=3483", "99")
	f.Add("SELECT * FROM db. 123", "4")
	f.Fuzz(func(t *testing.T, sql, repl string) {
		if repl == "" || len(repl) > maxLiteralDigits || strings.Trim(repl, "0123456789") != "" {
			return
		}
		shape, ok := AppendShape(nil, sql)
		if !ok {
			return
		}
		var b strings.Builder // sql with every blanked literal replaced by repl
		literals(sql, func(from, to int, lit bool) {
			switch {
			case !lit:
				b.WriteString(sql[from:to])
			case from == to:
				b.WriteString("/**/")
			default:
				b.WriteString(repl)
			}
		})
		other := b.String()
		if shape2, ok := AppendShape(nil, other); !ok || string(shape2) != string(shape) {
			t.Fatalf("%q and %q have shapes %q and %q (ok %t)", sql, other, shape, shape2, ok)
		}
		if a, b := describeAll(sql), describeAll(other); a != b {
			t.Fatalf("same shape, different parse:\n%q: %s\n%q: %s", sql, a, other, b)
		}
	})
}

// describeAll renders what Parse says about sql.
func describeAll(sql string) string {
	sts, err := Parse(sql, "db")
	if err != nil {
		return "error"
	}
	var parts []string
	for _, st := range sts {
		parts = append(parts, st.Kind+" | "+st.String())
	}
	return strings.Join(parts, " ;; ")
}

func BenchmarkAppendShape(b *testing.B) {
	sql := "SELECT DISTINCT c FROM sbtest1 WHERE id BETWEEN 1230 AND 1329 ORDER BY c"
	buf := make([]byte, 0, 256)
	b.SetBytes(int64(len(sql)))
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := AppendShape(buf[:0], sql); !ok {
			b.Fatal("no shape")
		}
	}
}
