package config

import "regexp"

// StringMatcher is Envoy's envoy.type.matcher.v3.StringMatcher as config
// data: exactly one of Exact, Prefix, Suffix, Contains or SafeRegex;
// IgnoreCase applies to all but SafeRegex (as in Envoy, a regex says its own
// case rules: (?i)). It lives here so that the route model below can hold
// it; package router compiles it (router.StringMatcher is the same type with
// the Compile method).
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
func (m *StringMatcher) Validate(path string, errs *Errors) {
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
		m.SafeRegex.Validate(Join(path, "safe_regex"), errs)
	}
}

// Validate records a regex that does not compile as RE2.
func (r *SafeRegex) Validate(path string, errs *Errors) {
	if r == nil {
		return
	}
	if _, err := regexp.Compile(r.Regex); err != nil {
		errs.Add(Join(path, "regex"), "%v", err)
	}
}
