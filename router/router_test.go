package router

import (
	"strings"
	"testing"

	"github.com/sluice-proxy/sluice/config"
)

func str(s string) *string { return &s }

func TestStringMatcher(t *testing.T) {
	tests := []struct {
		name string
		m    StringMatcher
		in   string
		want bool
	}{
		{"exact", StringMatcher{Exact: str("abc")}, "abc", true},
		{"exact differs in case", StringMatcher{Exact: str("abc")}, "ABC", false},
		{"exact ignore_case", StringMatcher{Exact: str("abc"), IgnoreCase: true}, "aBc", true},
		{"empty exact matches empty", StringMatcher{Exact: str("")}, "", true},
		{"prefix", StringMatcher{Prefix: "db."}, "db.example", true},
		{"prefix longer than value", StringMatcher{Prefix: "db.example.com"}, "db.", false},
		{"prefix ignore_case", StringMatcher{Prefix: "DB.", IgnoreCase: true}, "db.x", true},
		{"suffix", StringMatcher{Suffix: ".dns"}, "app.dns", true},
		{"suffix ignore_case", StringMatcher{Suffix: ".DNS", IgnoreCase: true}, "app.dns", true},
		{"suffix no", StringMatcher{Suffix: ".dns"}, "app.dnsx", false},
		{"contains", StringMatcher{Contains: "mid"}, "amidst", true},
		{"contains ignore_case", StringMatcher{Contains: "MID", IgnoreCase: true}, "aMiDst", true},
		{"contains no", StringMatcher{Contains: "mid", IgnoreCase: true}, "mi", false},
		{"regex whole value", StringMatcher{SafeRegex: &SafeRegex{Regex: "a+b"}}, "aab", true},
		{"regex anchored", StringMatcher{SafeRegex: &SafeRegex{Regex: "a+b"}}, "xaab", false},
		{"regex alternation anchored as a whole", StringMatcher{SafeRegex: &SafeRegex{Regex: "a|b"}}, "ab", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.m.Compile().Match(tt.in); got != tt.want {
				t.Fatalf("Match(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
	var zero Match
	if zero.Match("") || (*StringMatcher)(nil).Compile().Match("x") {
		t.Fatal("a zero or nil matcher matched")
	}
}

func TestStringMatcherValidate(t *testing.T) {
	tests := []struct {
		name    string
		m       *StringMatcher
		wantErr string
	}{
		{"nil", nil, ""},
		{"one", &StringMatcher{Prefix: "a"}, ""},
		{"none", &StringMatcher{IgnoreCase: true}, "m: set exactly one of exact, prefix, suffix, contains, safe_regex (0 set)"},
		{"two", &StringMatcher{Prefix: "a", Suffix: "b"}, "(2 set)"},
		{"bad regex", &StringMatcher{SafeRegex: &SafeRegex{Regex: "("}}, "m.safe_regex.regex: error parsing regexp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := &config.Errors{}
			tt.m.Validate("m", errs)
			got := ""
			if err := errs.Err(); err != nil {
				got = err.Error()
			}
			if (tt.wantErr == "") != (got == "") || !strings.Contains(got, tt.wantErr) {
				t.Fatalf("errors %q, want %q", got, tt.wantErr)
			}
		})
	}
}

func TestMatchServerName(t *testing.T) {
	tests := []struct {
		patterns []string
		name     string
		want     bool
	}{
		{[]string{"db.example.com"}, "DB.example.com", true},
		{[]string{"*.example.com"}, "a.example.com", true},
		{[]string{"*.example.com"}, "a.b.example.com", true},
		{[]string{"*.example.com"}, "example.com", false},
		{[]string{"*.example.com"}, ".example.com", false},
		{[]string{"*.example.com"}, "aexample.com", false},
		{[]string{"*example.com"}, "aexample.com", false}, // only "*." wildcards
		{[]string{"a.com", "*.b.com"}, "x.B.COM", true},
		{[]string{"a.com"}, "", false},
	}
	for _, tt := range tests {
		if got := MatchServerName(tt.patterns, tt.name); got != tt.want {
			t.Errorf("MatchServerName(%q, %q) = %v, want %v", tt.patterns, tt.name, got, tt.want)
		}
	}
}

func TestMatchAllocatesNothing(t *testing.T) {
	ms := []Match{
		(&StringMatcher{Exact: str("Orders"), IgnoreCase: true}).Compile(),
		(&StringMatcher{Contains: "ORD", IgnoreCase: true}).Compile(),
		(&StringMatcher{SafeRegex: &SafeRegex{Regex: "[a-z]+s"}}).Compile(),
	}
	if n := testing.AllocsPerRun(100, func() {
		for _, m := range ms {
			m.Match("shop.orders")
		}
		MatchServerName([]string{"*.example.com"}, "Db.Example.com")
	}); n != 0 {
		t.Fatalf("%v allocations per run", n)
	}
}

func BenchmarkMatch(b *testing.B) {
	m := (&StringMatcher{Suffix: ".ORDERS", IgnoreCase: true}).Compile()
	for b.Loop() {
		m.Match("shop.orders")
	}
}
