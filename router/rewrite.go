package router

import (
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/sluice-proxy/sluice/config"
)

// Rewrite applies the route's request changes to req in place: the path
// rewrite (prefix_rewrite or regex_rewrite; the query is kept), the host
// rewrite (host_rewrite_literal, host_rewrite_header or
// host_rewrite_path_regex; auto_host_rewrite
// is the caller's, see AutoHostRewrite), then the header mutations of the
// route, its virtual host and the configuration, in Envoy's order.
func (r *Route) Rewrite(req *http.Request) {
	orig := req.Host
	defer func() {
		if r.appendXFH && req.Host != orig {
			AppendForwardedHost(req.Header, orig)
		}
	}()
	if r.hostRegex != nil { // on the path as the client sent it, as Envoy does
		req.Host = r.hostRegex.ReplaceAllString(req.URL.Path, r.hostSub)
	}
	if r.prefixRewrite != "" || r.regexRewrite != nil {
		if p, ok := r.rewritePath(req.URL.EscapedPath(), r.prefixRewrite, r.regexRewrite, r.regexSub); ok {
			setPath(req.URL, p)
		}
	}
	switch {
	case r.hostLiteral != "":
		req.Host = r.hostLiteral
	case r.hostHeader != "":
		if v := req.Header.Get(r.hostHeader); v != "" {
			req.Host = v
		}
	}
	for _, m := range r.order {
		m.request.apply(req.Header, &req.Host)
	}
}

// MutateResponse applies the response header mutations of the route, its
// virtual host and the configuration to h, in Envoy's order.
func (r *Route) MutateResponse(h http.Header) {
	for _, m := range r.order {
		m.response.apply(h, nil)
	}
}

// rewritePath returns path rewritten by prefix (replacing the part the
// route's prefix, path or path_separated_prefix matched) or by re.
func (r *Route) rewritePath(path, prefix string, re *regexp.Regexp, sub string) (string, bool) {
	switch {
	case re != nil:
		return re.ReplaceAllString(path, envoySub(sub)), true
	case prefix != "" && r.kind != pathRegex && len(path) >= len(r.path):
		return prefix + path[len(r.path):], true
	}
	return path, false
}

// EnvoySubstitution turns an Envoy RegexMatchAndSubstitute substitution
// (\1 group references) into Go's Regexp.ReplaceAllString form.
func EnvoySubstitution(s string) string { return envoySub(s) }

// envoySub turns Envoy's \1 group references into Go's ${1}.
func envoySub(s string) string {
	if !strings.Contains(s, `\`) && !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '$':
			b.WriteString("$$")
		case s[i] == '\\' && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			b.WriteString("${" + string(s[i+1]) + "}")
			i++
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// setPath sets u's path from its escaped form.
func setPath(u *url.URL, escaped string) {
	p, err := url.PathUnescape(escaped)
	if err != nil {
		p = escaped
	}
	u.Path, u.RawPath = p, ""
	if u.EscapedPath() != escaped {
		u.RawPath = escaped
	}
}

// redirect is a compiled RedirectAction.
type redirect struct {
	scheme, host string
	port         uint32
	path, prefix string
	re           *regexp.Regexp
	sub          string
	status       int
	stripQuery   bool
}

func compileRedirect(a *config.RedirectAction, path string, errs *config.Errors) *redirect {
	d := &redirect{scheme: a.SchemeRedirect, host: a.HostRedirect, port: a.PortRedirect, path: a.PathRedirect,
		prefix: a.PrefixRewrite, status: config.RedirectCodes[a.ResponseCode], stripQuery: a.StripQuery}
	if a.HTTPSRedirect {
		d.scheme = "https"
	}
	if rr := a.RegexRewrite; rr != nil {
		re, err := regexp.Compile(rr.Pattern.Regex)
		if err != nil {
			errs.Add(config.Join(path, "regex_rewrite.pattern.regex"), "%v", err)
		}
		d.re, d.sub = re, rr.Substitution
	}
	return d
}

// Redirect returns the Location and status to answer req with, when the
// route is a redirect. Parts not configured are the request's own; a
// scheme change drops the old scheme's default port, as Envoy does.
func (r *Route) Redirect(req *http.Request) (location string, status int, ok bool) {
	d := r.redirect
	if d == nil {
		return "", 0, false
	}
	scheme := "http"
	if req.TLS != nil {
		scheme = "https"
	}
	newScheme := scheme
	if d.scheme != "" {
		newScheme = strings.ToLower(d.scheme)
	}
	host := req.Host
	if d.host != "" {
		host = d.host
	}
	switch h, port, err := net.SplitHostPort(host); {
	case d.port != 0:
		if err != nil {
			h = strings.Trim(host, "[]")
		}
		host = net.JoinHostPort(h, strconv.FormatUint(uint64(d.port), 10))
	case err == nil && newScheme != scheme && ((scheme == "http" && port == "80") || (scheme == "https" && port == "443")):
		host = h
		if strings.Contains(h, ":") {
			host = "[" + h + "]"
		}
	}
	path, query := req.URL.EscapedPath(), req.URL.RawQuery
	switch {
	case d.path != "":
		path = d.path
		if p, q, has := strings.Cut(d.path, "?"); has {
			path, query = p, q
		}
	default:
		path, _ = r.rewritePath(path, d.prefix, d.re, d.sub)
	}
	loc := newScheme + "://" + host + path
	if query != "" && !d.stripQuery {
		loc += "?" + query
	}
	return loc, d.status, true
}
