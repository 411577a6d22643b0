package router

import (
	"regexp"
	"strings"

	"github.com/sluice-proxy/sluice/config"
)

// StringMatcher is Envoy's envoy.type.matcher.v3.StringMatcher: exactly one
// of Exact, Prefix, Suffix, Contains or SafeRegex; IgnoreCase applies to all
// but SafeRegex (as in Envoy, a regex says its own case rules: (?i)).
type StringMatcher struct {
	Exact      *string    `yaml:"exact" json:"exact,omitempty"`
	Prefix     string     `yaml:"prefix" json:"prefix,omitempty"`
	Suffix     string     `yaml:"suffix" json:"suffix,omitempty"`
	Contains   string     `yaml:"contains" json:"contains,omitempty"`
	SafeRegex  *SafeRegex `yaml:"safe_regex" json:"safe_regex,omitempty"`
	IgnoreCase bool       `yaml:"ignore_case" json:"ignore_case,omitempty"`
}

// SafeRegex is an RE2 regular expression matched against the whole value.
type SafeRegex struct {
	Regex string `yaml:"regex" json:"regex"`
}

// Validate records a matcher that does not set exactly one field, or whose
// regex does not compile. A nil matcher is valid (the owner decides what nil
// means).
func (m *StringMatcher) Validate(path string, errs *config.Errors) {
	if m == nil {
		return
	}
	n := 0
	for _, set := range []bool{m.Exact != nil, m.Prefix != "", m.Suffix != "", m.Contains != "", m.SafeRegex != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		errs.Add(path, "set exactly one of exact, prefix, suffix, contains, safe_regex (%d set)", n)
	}
	if m.SafeRegex != nil {
		if _, err := regexp.Compile(m.SafeRegex.Regex); err != nil {
			errs.Add(config.Join(path, "safe_regex.regex"), "%v", err)
		}
	}
}

type kind uint8

const (
	kindNone kind = iota
	kindExact
	kindPrefix
	kindSuffix
	kindContains
	kindRegex
)

// Match is a compiled StringMatcher. The zero Match matches nothing.
type Match struct {
	kind kind
	want string
	fold bool
	re   *regexp.Regexp
}

// Compile returns m compiled; m must be valid (Validate). A nil m compiles
// to a Match that matches nothing.
func (m *StringMatcher) Compile() Match {
	if m == nil {
		return Match{}
	}
	c := Match{fold: m.IgnoreCase}
	switch {
	case m.Exact != nil:
		c.kind, c.want = kindExact, *m.Exact
	case m.Prefix != "":
		c.kind, c.want = kindPrefix, m.Prefix
	case m.Suffix != "":
		c.kind, c.want = kindSuffix, m.Suffix
	case m.Contains != "":
		c.kind, c.want = kindContains, m.Contains
	case m.SafeRegex != nil:
		c.kind, c.re = kindRegex, regexp.MustCompile("^(?:"+m.SafeRegex.Regex+")$")
	}
	return c
}

// Match reports whether v matches. It allocates nothing.
func (c Match) Match(v string) bool {
	switch c.kind {
	case kindExact:
		return equal(v, c.want, c.fold)
	case kindPrefix:
		return len(v) >= len(c.want) && equal(v[:len(c.want)], c.want, c.fold)
	case kindSuffix:
		return len(v) >= len(c.want) && equal(v[len(v)-len(c.want):], c.want, c.fold)
	case kindContains:
		if !c.fold {
			return strings.Contains(v, c.want)
		}
		for i := 0; i+len(c.want) <= len(v); i++ {
			if strings.EqualFold(v[i:i+len(c.want)], c.want) {
				return true
			}
		}
		return false
	case kindRegex:
		return c.re.MatchString(v)
	}
	return false
}

func equal(a, b string, fold bool) bool {
	if fold {
		return strings.EqualFold(a, b)
	}
	return a == b
}
