package router

import (
	"net/http"

	"github.com/sluice-proxy/sluice/config"
)

// HeaderMatchers are compiled Envoy HeaderMatchers (every kind: string_match,
// present_match, range_match and the older exact/prefix/suffix/contains/
// safe_regex forms, with invert_match and treat_missing_header_as_empty).
// Routes and the HTTP filters that select requests by headers (fault,
// health_check) share them, so one request meets one set of rules.
type HeaderMatchers []headerMatch

// CompileHeaders compiles validated matchers (config.HeaderMatcher's and
// the string matchers' Validate, which the config decoder runs).
func CompileHeaders(hs []config.HeaderMatcher) HeaderMatchers {
	if len(hs) == 0 {
		return nil
	}
	out := make(HeaderMatchers, 0, len(hs))
	for i := range hs {
		out = append(out, compileHeader(&hs[i]))
	}
	return out
}

// Match reports whether req matches every matcher (true for none), as
// Envoy's HeaderUtility::matchHeaders. It allocates only to join a
// repeated header.
func (ms HeaderMatchers) Match(req *http.Request) bool {
	for i := range ms {
		if !ms[i].matches(req) {
			return false
		}
	}
	return true
}
