package router

import (
	"regexp"
	"strings"

	"github.com/sluice-proxy/sluice/config"
)

// StringMatcher is Envoy's envoy.type.matcher.v3.StringMatcher:
// config.StringMatcher with the Compile method. The data type lives in
// config so that the route model can hold it; a *config.StringMatcher
// converts to a *StringMatcher for free.
type StringMatcher config.StringMatcher

// SafeRegex is an RE2 regular expression matched against the whole value.
type SafeRegex = config.SafeRegex

// Validate records a matcher that does not set exactly one field, or whose
// regex does not compile. A nil matcher is valid (the owner decides what nil
// means).
func (m *StringMatcher) Validate(path string, errs *config.Errors) {
	(*config.StringMatcher)(m).Validate(path, errs)
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
