package mysql

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/sluice-proxy/sluice/sqlmeta"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		db      string
		want    string // kind + " | " + Statement.String(), statements joined by " ;; "
		wantErr bool
	}{
		{name: "bare table without current db", input: "SELECT * FROM t", want: "select | t: select"},
		{name: "current db qualifies", input: "SELECT * FROM t", db: "app", want: "select | app.t: select"},
		{name: "statement db wins", input: "SELECT * FROM other.t", db: "app", want: "select | other.t: select"},
		{name: "self join counted once", input: "SELECT * FROM t a JOIN t b ON a.id = b.p", want: "select | t: select"},
		{name: "insert select from itself", input: "INSERT INTO t SELECT * FROM t", want: "insert | t: insert,select"},
		{name: "cte shadows nothing qualified", input: "WITH t AS (SELECT 1) SELECT * FROM t, db.t", want: "select | db.t: select"},
		{name: "two statements", input: "BEGIN; DELETE FROM q", want: "begin |  ;; delete | q: delete"},
		{name: "syntax error", input: "SELECT FROM WHERE", wantErr: true},
		// mysqlslap sends its statements with the C string's NUL; MariaDB
		// accepts exactly one at the end (checked against mariadbd 10.11).
		{name: "one trailing NUL", input: "INSERT INTO t1 VALUES (1,'x')\x00", want: "insert | t1: insert"},
		{name: "two trailing NULs", input: "SELECT 1\x00\x00", wantErr: true},
		{name: "inner NUL", input: "SELECT\x00 1", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sts, err := Parse(tt.input, tt.db)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %t", err, tt.wantErr)
			}
			if err != nil {
				if !strings.HasPrefix(err.Error(), "sqlmeta/mysql: parse: ") || sts != nil {
					t.Errorf("error %q, statements %v", err, sts)
				}
				return
			}
			var parts []string
			for _, st := range sts {
				parts = append(parts, st.Kind+" | "+st.String())
			}
			if got := strings.Join(parts, " ;; "); got != tt.want {
				t.Errorf("got %q want %q", got, tt.want)
			}
		})
	}
}

func TestParseFeedsPolicies(t *testing.T) {
	sts, err := Parse("UPDATE orders o JOIN customers c ON c.id = o.cid SET o.x = 1", "shop")
	if err != nil {
		t.Fatal(err)
	}
	st := sts[0]
	for _, c := range []struct {
		table string
		op    sqlmeta.Op
		want  bool
	}{
		{"orders", sqlmeta.OpUpdate, true}, {"shop.orders", sqlmeta.OpUpdate, true},
		{"customers", sqlmeta.OpUpdate, false}, {"customers", sqlmeta.OpSelect, true},
	} {
		if got := st.Has(c.table, c.op); got != c.want {
			t.Errorf("Has(%s, %s) = %t", c.table, c.op, got)
		}
	}
}

// FuzzParse must never panic; every table it reports has a name.
func FuzzParse(f *testing.F) {
	src, err := os.ReadFile("testdata/corpus.sql")
	if err != nil {
		f.Fatal(err)
	}
	for i, line := range strings.Split(string(src), "\n") {
		if line == "" || strings.HasPrefix(line, "-- ") {
			continue
		}
		f.Add(line)
		if *update {
			dir := filepath.Join("testdata", "fuzz", "FuzzParse")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				f.Fatal(err)
			}
			body := fmt.Sprintf("go test fuzz v1\nstring(%q)\n", line)
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("corpus_%02d", i)), []byte(body), 0o644); err != nil {
				f.Fatal(err)
			}
		}
	}
	f.Fuzz(func(t *testing.T, sql string) {
		_ = Classify(sql)
		sts, err := Parse(sql, "db")
		if err != nil {
			return
		}
		for _, st := range sts {
			for name, ops := range st.Tables {
				if name == "" || name == "db." || len(ops) == 0 {
					t.Fatalf("bad table %q %v in %q", name, ops, sql)
				}
			}
		}
	})
}

var benchSQL = []string{
	"SELECT c FROM sbtest1 WHERE id = 42",
	"UPDATE orders o JOIN customers c ON c.id = o.customer_id SET o.discount = 5 WHERE c.vip = 1",
	"INSERT INTO stats (day, n) SELECT DATE(created_at), COUNT(*) FROM orders GROUP BY 1",
}

func BenchmarkParse(b *testing.B) {
	for _, sql := range benchSQL {
		b.Run(strings.Fields(sql)[0], func(b *testing.B) {
			b.SetBytes(int64(len(sql)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(sql, "shop"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkClassify(b *testing.B) {
	sql := "/* app=web route=/orders */ SELECT c FROM sbtest1 WHERE id = 42"
	b.ReportAllocs()
	for b.Loop() {
		if Classify(sql) != "select" {
			b.Fatal("misclassified")
		}
	}
}

// TestParseConcurrent parses from several goroutines (run with -race):
// the pooled parsers' nodes must not be shared while they are described.
func TestParseConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 100 {
				table := fmt.Sprintf("t%d_%d", g, i)
				sts, err := Parse("SELECT c FROM "+table+" WHERE id = 1", "db")
				if err != nil || len(sts) != 1 || !sts[0].Has("db."+table, sqlmeta.OpSelect) {
					t.Errorf("goroutine %d: %v %v", g, sts, err)
					return
				}
			}
		})
	}
	wg.Wait()
}
