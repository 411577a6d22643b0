package pg

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/sluice-proxy/sluice/sqlmeta"
)

var update = flag.Bool("update", false, "rewrite testdata/corpus.golden")

// corpus returns the statements of testdata/corpus.sql, separated by lines
// of "----".
func corpus(t testing.TB) []string {
	b, err := os.ReadFile("testdata/corpus.sql")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range strings.Split(string(b), "\n----\n") {
		out = append(out, strings.TrimSpace(c))
	}
	return out
}

// render prints a case's result the way the golden file holds it.
func render(sql string, stmts []sqlmeta.Statement, err error) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n", sql)
	if err != nil {
		fmt.Fprintf(&b, "  error: %v\n", err)
	}
	for _, s := range stmts {
		fmt.Fprintf(&b, "  %s | %s\n", s.Kind, s.String())
	}
	return b.String()
}

// TestCorpus parses every corpus statement and compares with the golden
// file (go test ./sqlmeta/pg -update rewrites it).
func TestCorpus(t *testing.T) {
	var b strings.Builder
	cases := corpus(t)
	if len(cases) < 40 {
		t.Fatalf("corpus has %d statements, want at least 40", len(cases))
	}
	for _, sql := range cases {
		stmts, err := Parse(sql)
		b.WriteString(render(sql, stmts, err))
	}
	got := b.String()
	if *update {
		if err := os.WriteFile("testdata/corpus.golden", []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("testdata/corpus.golden")
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("%s: corpus differs from testdata/corpus.golden:\n%s", backend, got)
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		want    []string // "kind | tables" per statement
		wantErr bool
	}{
		{"unquoted folds", "SELECT * FROM Shop.Orders", []string{"select | shop.orders: select"}, false},
		{"quoted keeps case", `SELECT * FROM "Shop"."Orders"`, []string{"select | Shop.Orders: select"}, false},
		{"cte is not a table", "WITH x AS (SELECT 1) SELECT * FROM x", []string{"select | "}, false},
		{"qualified name is not the cte", "WITH x AS (SELECT 1) SELECT * FROM s.x", []string{"select | s.x: select"}, false},
		{"insert select", "INSERT INTO a SELECT * FROM b", []string{"insert | a: insert; b: select"}, false},
		{"self update reads", "UPDATE a SET x = (SELECT max(x) FROM a)", []string{"update | a: update,select"}, false},
		{"several statements", "BEGIN; DELETE FROM t; COMMIT", []string{"begin | ", "delete | t: delete", "commit | "}, false},
		{"empty", "", nil, false},
		{"syntax error", "SELEC 1", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stmts, err := Parse(tt.input)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			var got []string
			for _, s := range stmts {
				got = append(got, s.Kind+" | "+s.String())
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// FuzzParse checks that Parse never panics and that every table it reports
// carries at least one operation.
func FuzzParse(f *testing.F) {
	for _, c := range corpus(f) {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		stmts, err := Parse(sql)
		if err != nil {
			return
		}
		for _, s := range stmts {
			if s.Kind == "" {
				t.Fatalf("statement without kind in %q", sql)
			}
			for table, ops := range s.Tables {
				if table == "" || len(ops) == 0 {
					t.Fatalf("table %q ops %v in %q", table, ops, sql)
				}
			}
		}
	})
}

// BenchmarkParse parses the whole corpus per iteration.
func BenchmarkParse(b *testing.B) {
	cases := corpus(b)
	b.ReportAllocs()
	for b.Loop() {
		for _, c := range cases {
			Parse(c)
		}
	}
}

// BenchmarkParseSimple parses one short query, the common case.
func BenchmarkParseSimple(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("SELECT id, name FROM users WHERE id = $1"); err != nil {
			b.Fatal(err)
		}
	}
}
