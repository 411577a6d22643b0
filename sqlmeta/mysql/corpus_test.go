package mysql

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/corpus.golden")

// TestCorpus parses every statement of testdata/corpus.sql and compares the
// kinds and tables with testdata/corpus.golden.
func TestCorpus(t *testing.T) {
	src, err := os.ReadFile("testdata/corpus.sql")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	db, n := "", 0
	for _, line := range strings.Split(string(src), "\n") {
		if rest, ok := strings.CutPrefix(line, "-- db:"); ok {
			db = strings.TrimSpace(rest)
			continue
		}
		if line == "" || strings.HasPrefix(line, "-- ") {
			continue
		}
		n++
		fmt.Fprintf(&b, "%s\n", line)
		sts, err := Parse(line, db)
		if err != nil {
			fmt.Fprintf(&b, "  error\n")
			continue
		}
		for _, st := range sts {
			fmt.Fprintf(&b, "  %s: %s\n", st.Kind, st.String())
		}
		if got := Classify(line); got != classifyOf(sts[0].Kind) {
			t.Errorf("Classify(%q) = %q, Parse says %q", line, got, sts[0].Kind)
		}
	}
	if n < 40 {
		t.Fatalf("corpus has %d statements, want at least 40", n)
	}
	if *update {
		if err := os.WriteFile("testdata/corpus.golden", []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile("testdata/corpus.golden")
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("output differs from testdata/corpus.golden (run with -update to accept):\n%s", b.String())
	}
}

// classifyOf maps a parsed kind to what Classify should say.
func classifyOf(kind string) string {
	switch kind {
	case "select", "insert", "update", "delete":
		return kind
	case "replace":
		return "insert"
	}
	return "other"
}
