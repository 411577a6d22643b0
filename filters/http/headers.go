package httpfilter

import (
	"net/http"
	"strings"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/router"
)

// HeaderMatchers are compiled Envoy HeaderMatchers for the HTTP filters
// that select requests by headers (health_check, fault): string_match,
// exact_match, present_match and invert_match, with ":path" (path and
// query), ":method" and ":authority" as Envoy names them. All must match.
type HeaderMatchers []headerMatch

// ValidateHeaderMatchers refuses matchers of kinds HeaderMatchers lacks.
func ValidateHeaderMatchers(path string, hs []config.HeaderMatcher, errs *config.Errors) {
	for i, h := range hs {
		p := config.Index(path, i)
		if h.Name == "" {
			errs.Add(config.Join(p, "name"), "required")
		}
		if h.RangeMatch != nil || h.PrefixMatch != "" || h.SuffixMatch != "" || h.ContainsMatch != "" || h.SafeRegexMatch != nil {
			errs.Add(p, "only string_match, exact_match and present_match are supported here")
		}
	}
}

// headerMatch is a compiled HeaderMatcher of the kinds supported here.
type headerMatch struct {
	name   string
	str    *router.Match // nil: presence
	absent bool          // present_match: false
	invert bool
}

// CompileHeaderMatchers compiles validated matchers.
func CompileHeaderMatchers(hs []config.HeaderMatcher) HeaderMatchers {
	out := make(HeaderMatchers, len(hs))
	for i, h := range hs {
		m := headerMatch{name: strings.ToLower(h.Name), invert: h.InvertMatch}
		switch {
		case h.StringMatch != nil:
			c := (*router.StringMatcher)(h.StringMatch).Compile()
			m.str = &c
		case h.ExactMatch != nil:
			c := (*router.StringMatcher)(&config.StringMatcher{Exact: h.ExactMatch}).Compile()
			m.str = &c
		case h.PresentMatch != nil && !*h.PresentMatch:
			m.absent = true
		}
		out[i] = m
	}
	return out
}

// Match reports whether r carries every header as configured (true for
// none).
func (ms HeaderMatchers) Match(r *http.Request) bool {
	for _, m := range ms {
		var v string
		var ok bool
		switch m.name {
		case ":path":
			v, ok = r.URL.RequestURI(), true
		case ":method":
			v, ok = r.Method, true
		case ":authority", "host":
			v, ok = r.Host, r.Host != ""
		default:
			vs := r.Header.Values(m.name)
			v, ok = strings.Join(vs, ","), len(vs) > 0
		}
		var hit bool
		switch {
		case m.absent:
			hit = !ok
		case m.str != nil:
			hit = ok && m.str.Match(v)
		default:
			hit = ok
		}
		if hit == m.invert {
			return false
		}
	}
	return true
}
