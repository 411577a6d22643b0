package router

import (
	"net/http"
	"sort"
	"strings"

	"github.com/sluice-proxy/sluice/config"
)

// Table is a compiled RouteConfiguration: immutable, safe for concurrent
// use, and Route allocates nothing for the common cases (see Route).
type Table struct {
	name       string
	exact      map[string]*vhost
	suffix     []wildcard // "*.example.com", longest first
	prefix     []wildcard // "api.*", longest first
	star       *vhost
	ignorePort bool
	internal   []string
	mut        mutations
	perFilter  map[string]any
	// specificLast applies the route's mutations last (Envoy's
	// most_specific_header_mutations_wins); by default the config's are.
	specificLast bool
}

type wildcard struct {
	s  string
	vh *vhost
}

type vhost struct {
	name      string
	routes    []*Route
	index     *pathIndex // nil for short lists
	mut       mutations
	retry     *RetryPolicy
	perFilter map[string]any
	// rateLimits apply to the routes without their own (Envoy's default
	// vh_rate_limits: OVERRIDE).
	rateLimits []rateLimit
	// bufLimit is per_request_buffer_limit_bytes (-1 unset).
	bufLimit int64
	// attemptReq and attemptResp are include_request_attempt_count and
	// include_attempt_count_in_response.
	attemptReq, attemptResp bool
	timeoutRetryHeader      bool
	requireTLS              string // "", "EXTERNAL_ONLY", "ALL"
	vclusters               []vcluster
	mirrors                 []Mirror // the virtual host's, else the config's
}

// Compile builds the table for rc, which must have passed validation (the
// config decoder runs it); what validation cannot see (a regex, a bad
// wildcard) is reported as an error here too.
func Compile(rc *config.RouteConfiguration) (*Table, error) {
	errs := &config.Errors{}
	t := &Table{
		name:         rc.Name,
		exact:        map[string]*vhost{},
		ignorePort:   rc.IgnorePortInHostMatching,
		mut:          compileMutations(rc.Mutations()),
		perFilter:    rc.TypedPerFilterConfig,
		specificLast: rc.MostSpecificHeaderMutationsWins,
	}
	for _, h := range rc.InternalOnlyHeaders {
		t.internal = append(t.internal, http.CanonicalHeaderKey(h))
	}
	for i := range rc.VirtualHosts {
		vc := &rc.VirtualHosts[i]
		vp := config.Index("virtual_hosts", i)
		vh := &vhost{name: vc.Name, mut: compileMutations(vc.Mutations()), perFilter: vc.TypedPerFilterConfig,
			bufLimit: bufferLimit(vc.PerRequestBufferLimitBytes, vc.RequestBodyBufferLimit), attemptReq: vc.IncludeRequestAttemptCount,
			attemptResp: vc.IncludeAttemptCountInResponse, timeoutRetryHeader: vc.IncludeIsTimeoutRetryHeader,
			requireTLS: strings.TrimPrefix(vc.RequireTLS, "NONE"), vclusters: compileVClusters(vc.VirtualClusters),
			rateLimits: compileRateLimits(vc.RateLimits)}
		if vc.RetryPolicy != nil {
			vh.retry = compileRetry(vc.RetryPolicy)
		}
		if vh.mirrors = compileMirrors(vc.RequestMirrorPolicies); len(vh.mirrors) == 0 {
			vh.mirrors = compileMirrors(rc.RequestMirrorPolicies)
		}
		for j := range vc.Routes {
			vh.routes = append(vh.routes, compileRoute(t, vh, &vc.Routes[j], config.Index(config.Join(vp, "routes"), j), errs))
		}
		vh.index = buildIndex(vh.routes)
		for j, d := range vc.Domains {
			d = strings.ToLower(d)
			dp := config.Index(config.Join(vp, "domains"), j)
			switch {
			case d == "*":
				if t.star != nil {
					errs.Add(dp, `domain "*" is used twice`)
				}
				t.star = vh
			case strings.HasPrefix(d, "*"):
				t.suffix = append(t.suffix, wildcard{d[1:], vh})
			case strings.HasSuffix(d, "*"):
				t.prefix = append(t.prefix, wildcard{d[:len(d)-1], vh})
			default:
				if _, dup := t.exact[d]; dup {
					errs.Add(dp, "domain %q is used twice", d)
				}
				t.exact[d] = vh
			}
		}
	}
	// Envoy tries longer wildcards first; the stable sort keeps config order
	// among equals, which validation makes distinct anyway.
	sort.SliceStable(t.suffix, func(i, j int) bool { return len(t.suffix[i].s) > len(t.suffix[j].s) })
	sort.SliceStable(t.prefix, func(i, j int) bool { return len(t.prefix[i].s) > len(t.prefix[j].s) })
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return t, nil
}

// Name is the route configuration's name.
func (t *Table) Name() string { return t.name }

// InternalOnlyHeaders are the canonical header names to remove from
// requests that come from outside (internal_only_headers).
func (t *Table) InternalOnlyHeaders() []string { return t.internal }

// Route returns the first route of the request's virtual host that matches
// it, or nil (the caller answers 404 and counts route_missing). It
// allocates nothing unless the Host has upper-case letters, a header
// matcher reads a repeated header, or a query value is percent-encoded.
func (t *Table) Route(req *http.Request) *Route {
	vh := t.virtualHost(req.Host)
	if vh == nil {
		return nil
	}
	path := req.URL.EscapedPath()
	if vh.index != nil {
		if i := vh.index.first(vh.routes, req, path); i >= 0 {
			return vh.routes[i]
		}
		return nil
	}
	for _, r := range vh.routes {
		if r.matches(req, path) {
			return r
		}
	}
	return nil
}

// virtualHost picks the virtual host for host with Envoy's precedence:
// exact domain, then the longest "*suffix", then the longest "prefix*",
// then "*".
func (t *Table) virtualHost(host string) *vhost {
	if t.ignorePort {
		host = stripPort(host)
	}
	if hasUpper(host) {
		host = strings.ToLower(host)
	}
	if vh, ok := t.exact[host]; ok {
		return vh
	}
	for _, w := range t.suffix {
		// The wildcard stands for at least one character.
		if len(host) > len(w.s) && strings.HasSuffix(host, w.s) {
			return w.vh
		}
	}
	for _, w := range t.prefix {
		if len(host) > len(w.s) && strings.HasPrefix(host, w.s) {
			return w.vh
		}
	}
	return t.star
}

// stripPort removes ":port" (a run of digits) from host, leaving a bare
// IPv6 literal alone.
func stripPort(host string) string {
	i := strings.LastIndexByte(host, ':')
	if i < 0 || strings.LastIndexByte(host, ']') > i {
		return host
	}
	if i == len(host)-1 {
		return host
	}
	for _, c := range host[i+1:] {
		if c < '0' || c > '9' {
			return host
		}
	}
	if strings.IndexByte(host[:i], ':') >= 0 && !strings.HasPrefix(host, "[") {
		return host // an IPv6 address without brackets has no port
	}
	return host[:i]
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return true
		}
	}
	return false
}
