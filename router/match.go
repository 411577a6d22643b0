package router

import (
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/sluice-proxy/sluice/config"
)

type pathKind uint8

const (
	pathPrefix pathKind = iota
	pathExact
	pathRegex
	pathSeparated
	pathConnect // connect_matcher: CONNECT requests, whatever their path
)

// headerMatch is a compiled HeaderMatcher.
type headerMatch struct {
	name           string // canonical, or a pseudo-header (":authority")
	str            Match
	present        bool // for kind present: the wanted presence
	kind           uint8
	start, end     int64
	invert         bool
	missingAsEmpty bool
}

const (
	hmString uint8 = iota
	hmPresent
	hmRange
)

type queryMatch struct {
	name    string
	str     Match
	present bool // no string_match: presence is enough
}

// fraction is a compiled FractionalPercent: a request is in when a random
// number below scale is below num.
type fraction struct {
	num, scale uint32
}

func compileFraction(f *config.RuntimeFraction) fraction {
	if f == nil {
		return fraction{1, 1}
	}
	return fraction{f.DefaultValue.Numerator, f.DefaultValue.Scale()}
}

// sample draws a fresh random number per call, as Envoy draws one per
// stream; it allocates nothing.
func (f fraction) sample() bool {
	if f.num >= f.scale {
		return true
	}
	return rand.Uint32N(f.scale) < f.num
}

func compileMatch(r *Route, m *config.RouteMatch, path string, errs *config.Errors) {
	r.fold = m.CaseSensitive != nil && !*m.CaseSensitive
	r.queryAt = -1
	if m.Prefix != nil {
		r.queryAt = strings.IndexByte(*m.Prefix, '?')
	}
	switch {
	case m.Prefix != nil:
		r.kind, r.path = pathPrefix, *m.Prefix
	case m.Path != nil:
		r.kind, r.path = pathExact, *m.Path
	case m.PathSeparatedPrefix != nil:
		r.kind, r.path = pathSeparated, *m.PathSeparatedPrefix
	case m.ConnectMatcher != nil:
		r.kind = pathConnect
	case m.SafeRegex != nil:
		re, err := regexp.Compile("^(?:" + m.SafeRegex.Regex + ")$")
		if err != nil {
			errs.Add(config.Join(path, "safe_regex.regex"), "%v", err)
		}
		r.kind, r.re = pathRegex, re
	}
	r.headers = CompileHeaders(m.Headers)
	for _, q := range m.QueryParameters {
		qm := queryMatch{name: q.Name, present: q.StringMatch == nil}
		if q.StringMatch != nil {
			qm.str = (*StringMatcher)(q.StringMatch).Compile()
		}
		r.query = append(r.query, qm)
	}
	r.grpc = m.Grpc != nil
	r.fraction = compileFraction(m.RuntimeFraction)
}

// compileHeader compiles one HeaderMatcher (route matches, virtual
// clusters, retriable_headers, the rate limit header_value_match action).
func compileHeader(h *config.HeaderMatcher) headerMatch {
	hm := headerMatch{name: headerKey(h.Name), invert: h.InvertMatch, missingAsEmpty: h.TreatMissingHeaderAsEmpty}
	sm := h.StringMatch
	switch {
	case h.PresentMatch != nil:
		hm.kind, hm.present = hmPresent, *h.PresentMatch
	case h.RangeMatch != nil:
		hm.kind, hm.start, hm.end = hmRange, h.RangeMatch.Start, h.RangeMatch.End
	case h.ExactMatch != nil:
		sm = &config.StringMatcher{Exact: h.ExactMatch}
	case h.PrefixMatch != "":
		sm = &config.StringMatcher{Prefix: h.PrefixMatch}
	case h.SuffixMatch != "":
		sm = &config.StringMatcher{Suffix: h.SuffixMatch}
	case h.ContainsMatch != "":
		sm = &config.StringMatcher{Contains: h.ContainsMatch}
	case h.SafeRegexMatch != nil:
		sm = &config.StringMatcher{SafeRegex: h.SafeRegexMatch}
	case sm == nil:
		hm.kind, hm.present = hmPresent, true // Envoy: no specifier means "present"
	}
	if sm != nil {
		hm.kind, hm.str = hmString, (*StringMatcher)(sm).Compile()
	}
	return hm
}

// headerKey canonicalizes a header name for http.Header lookups, keeping
// pseudo-headers in lower case; "host" is ":authority", as in Envoy (and
// net/http keeps it out of the header map).
func headerKey(name string) string {
	if strings.HasPrefix(name, ":") || strings.EqualFold(name, "host") {
		if strings.EqualFold(name, "host") {
			return ":authority"
		}
		return strings.ToLower(name)
	}
	return http.CanonicalHeaderKey(name)
}

// matches reports whether req (whose escaped path is path) matches r.
// Path matching ignores the query string, which Go keeps apart.
func (r *Route) matches(req *http.Request, path string) bool {
	if (r.kind == pathConnect) != (req.Method == http.MethodConnect) && !isExtendedConnect(req) {
		return false // Envoy: only a connect_matcher matches CONNECT (RFC 8441's has a path)
	}
	switch r.kind {
	case pathPrefix:
		if r.queryAt >= 0 {
			// A prefix with '?' reaches into the query, as Envoy's does
			// (it matches the whole :path).
			p, q := r.path[:r.queryAt], r.path[r.queryAt+1:]
			if !equal(path, p, r.fold) || len(req.URL.RawQuery) < len(q) || !equal(req.URL.RawQuery[:len(q)], q, r.fold) {
				return false
			}
		} else if len(path) < len(r.path) || !equal(path[:len(r.path)], r.path, r.fold) {
			return false
		}
	case pathExact:
		if !equal(path, r.path, r.fold) {
			return false
		}
	case pathSeparated:
		if len(path) < len(r.path) || !equal(path[:len(r.path)], r.path, r.fold) ||
			(len(path) > len(r.path) && path[len(r.path)] != '/') {
			return false
		}
	case pathRegex:
		if !r.re.MatchString(path) {
			return false
		}
	}
	if r.grpc && !IsGRPC(req.Header) {
		return false
	}
	for i := range r.headers {
		if !r.headers[i].matches(req) {
			return false
		}
	}
	for i := range r.query {
		if !r.query[i].matches(req.URL.RawQuery) {
			return false
		}
	}
	return r.fraction.sample()
}

// IsGRPC reports a gRPC content-type, as Envoy's Grpc::Common does:
// application/grpc, or application/grpc+proto and the like. Routes'
// `grpc: {}` and the HTTP filters that treat gRPC requests apart use it.
func IsGRPC(h http.Header) bool {
	ct := h["Content-Type"]
	if len(ct) == 0 {
		return false
	}
	v := ct[0]
	const g = "application/grpc"
	return v == g || (strings.HasPrefix(v, g) && (v[len(g)] == '+' || v[len(g)] == ';'))
}

// headerValue returns the request's value for name, joining repeated
// headers with "," as Envoy does (that, only, allocates).
func headerValue(req *http.Request, name string) (string, bool) {
	switch name {
	case ":authority":
		return req.Host, req.Host != ""
	case ":method":
		return req.Method, true
	case ":path":
		return req.URL.RequestURI(), true
	case ":scheme":
		if req.TLS != nil {
			return "https", true
		}
		return "http", true
	}
	vs := req.Header[name]
	switch len(vs) {
	case 0:
		return "", false
	case 1:
		return vs[0], true
	}
	return strings.Join(vs, ","), true
}

// matches follows Envoy's HeaderUtility::matchHeaders, including its rule
// for an absent header: only present_match: false (or an inverted
// present_match: true) matches it.
func (h *headerMatch) matches(req *http.Request) bool {
	v, ok := headerValue(req, h.name)
	if !ok && !h.missingAsEmpty {
		return h.kind == hmPresent && h.present == h.invert
	}
	var m bool
	switch h.kind {
	case hmPresent:
		m = h.present
	case hmRange:
		n, err := strconv.ParseInt(v, 10, 64)
		m = err == nil && n >= h.start && n < h.end
	default:
		m = h.str.Match(v)
	}
	return m != h.invert
}

// matches looks name up in the raw query without building url.Values.
func (q *queryMatch) matches(raw string) bool {
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(kv, "=")
		if strings.ContainsAny(k, "%+") {
			if dk, err := url.QueryUnescape(k); err == nil {
				k = dk
			}
		}
		if k != q.name {
			continue
		}
		if q.present {
			return true
		}
		if strings.ContainsAny(v, "%+") {
			if dv, err := url.QueryUnescape(v); err == nil {
				v = dv
			}
		}
		return q.str.Match(v)
	}
	return false
}
