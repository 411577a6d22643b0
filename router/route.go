package router

import (
	"math/rand/v2"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/sluice-proxy/sluice/config"
)

// DefaultTimeout is Envoy's route timeout when none is configured.
const DefaultTimeout = 15 * time.Second

// Route is one compiled route: its match and what to do with a request it
// matched. Methods are safe for concurrent use.
type Route struct {
	name string
	t    *Table
	vh   *vhost

	kind     pathKind
	path     string
	queryAt  int // the index of '?' in a prefix, or -1
	fold     bool
	re       *regexp.Regexp
	headers  HeaderMatchers
	query    []queryMatch
	grpc     bool
	fraction fraction

	cluster       string
	clusterHeader string
	weighted      []weightedCluster
	totalWeight   uint64

	prefixRewrite string
	regexRewrite  *regexp.Regexp
	regexSub      string
	hostLiteral   string
	hostHeader    string
	autoHost      bool
	hostRegex     *regexp.Regexp // host_rewrite_path_regex
	hostSub       string

	timeout       time.Duration
	grpcT         grpcTimeouts
	idle          time.Duration
	hasIdle       bool
	retry         *RetryPolicy
	hashes        []hashPolicy
	mirrors       []Mirror
	direct        *directResponse
	redirect      *redirect
	mut           mutations
	perFilter     map[string]any
	order         [3]*mutations // route, vhost, config, in application order
	isRouteAction bool
	connect       bool // upgrade_configs enable CONNECT

	operation  string          // decorator.operation: the tracing span's name
	bufLimit   int64           // per_request_buffer_limit_bytes, -1 unset
	upgrades   map[string]bool // upgrade_configs by lower-case type
	appendXFH  bool            // append_x_forwarded_host
	noCluster  int             // cluster_not_found_response_code
	rateLimits []rateLimit
}

type weightedCluster struct {
	name string
	end  uint64 // cumulative weight
}

type directResponse struct {
	status int
	body   string
}

func compileRoute(t *Table, vh *vhost, rc *config.Route, path string, errs *config.Errors) *Route {
	r := &Route{name: rc.Name, t: t, vh: vh, mut: compileMutations(rc.Mutations()), perFilter: rc.TypedPerFilterConfig, timeout: DefaultTimeout,
		bufLimit: bufferLimit(rc.PerRequestBufferLimitBytes, rc.RequestBodyBufferLimit)}
	if r.bufLimit < 0 {
		r.bufLimit = vh.bufLimit
	}
	if rc.Decorator != nil {
		r.operation = rc.Decorator.Operation
	}
	compileMatch(r, &rc.Match, config.Join(path, "match"), errs)
	if t.specificLast {
		r.order = [3]*mutations{&t.mut, &vh.mut, &r.mut}
	} else {
		r.order = [3]*mutations{&r.mut, &vh.mut, &t.mut}
	}
	switch {
	case rc.DirectResponse != nil:
		d := &directResponse{status: int(rc.DirectResponse.Status)}
		if rc.DirectResponse.Body != nil {
			d.body = rc.DirectResponse.Body.InlineString
		}
		r.direct = d
	case rc.Redirect != nil:
		r.redirect = compileRedirect(rc.Redirect, config.Join(path, "redirect"), errs)
	case rc.Route != nil:
		compileAction(r, rc.Route, config.Join(path, "route"), errs)
	}
	return r
}

func compileAction(r *Route, a *config.RouteAction, path string, errs *config.Errors) {
	r.isRouteAction = true
	r.cluster = a.Cluster
	r.rateLimits = compileRateLimits(a.RateLimits)
	if a.ClusterHeader != "" {
		r.clusterHeader = http.CanonicalHeaderKey(a.ClusterHeader)
	}
	if w := a.WeightedClusters; w != nil {
		for _, c := range w.Clusters {
			r.totalWeight += uint64(c.Weight)
			r.weighted = append(r.weighted, weightedCluster{c.Name, r.totalWeight})
		}
	}
	r.prefixRewrite = a.PrefixRewrite
	if rr := a.RegexRewrite; rr != nil {
		re, err := regexp.Compile(rr.Pattern.Regex)
		if err != nil {
			errs.Add(config.Join(path, "regex_rewrite.pattern.regex"), "%v", err)
		}
		r.regexRewrite, r.regexSub = re, rr.Substitution
	}
	r.hostLiteral, r.autoHost = a.HostRewriteLiteral, a.AutoHostRewrite
	r.appendXFH = a.AppendXForwardedHost
	r.noCluster = map[string]int{"NOT_FOUND": 404, "INTERNAL_SERVER_ERROR": 500}[a.ClusterNotFoundResponseCode]
	if hr := a.HostRewritePathRegex; hr != nil {
		re, err := regexp.Compile(hr.Pattern.Regex)
		if err != nil {
			errs.Add(config.Join(path, "host_rewrite_path_regex.pattern.regex"), "%v", err)
		}
		r.hostRegex, r.hostSub = re, envoySub(hr.Substitution)
	}
	if a.HostRewriteHeader != "" {
		r.hostHeader = http.CanonicalHeaderKey(a.HostRewriteHeader)
	}
	if a.Timeout != nil {
		r.timeout = a.Timeout.D()
	}
	if a.IdleTimeout != nil {
		r.idle, r.hasIdle = a.IdleTimeout.D(), true
	}
	r.grpcT = compileGrpcTimeouts(a)
	switch {
	case a.RetryPolicy != nil:
		r.retry = compileRetry(a.RetryPolicy)
	case r.vh.retry != nil:
		r.retry = r.vh.retry // Envoy: a route's own policy replaces the virtual host's
	}
	r.mirrors = compileMirrors(a.RequestMirrorPolicies)
	if len(r.mirrors) == 0 { // the most specific non-empty list wins
		r.mirrors = r.vh.mirrors
	}
	for _, h := range a.HashPolicy {
		r.hashes = append(r.hashes, compileHash(h))
	}
	for i := range a.UpgradeConfigs {
		u := &a.UpgradeConfigs[i]
		if strings.EqualFold(u.UpgradeType, "CONNECT") {
			r.connect = u.On()
		}
		if r.upgrades == nil {
			r.upgrades = map[string]bool{}
		}
		r.upgrades[strings.ToLower(u.UpgradeType)] = u.On()
	}
}

// Name is the route's configured name ("" when unnamed).
func (r *Route) Name() string { return r.name }

// Operation is the route's decorator.operation ("" when none).
func (r *Route) Operation() string { return r.operation }

// VirtualHost is the name of the route's virtual host.
func (r *Route) VirtualHost() string { return r.vh.name }

// Cluster returns the upstream cluster for req: the configured cluster, the
// value of cluster_header ("" when the header is missing: the caller
// answers as Envoy does for an unknown cluster), or a weighted pick drawn
// fresh per call with Envoy's rule (a random number below the total
// weight, then the first cluster whose cumulative weight exceeds it). ""
// for a redirect or direct response.
func (r *Route) Cluster(req *http.Request) string {
	switch {
	case r.cluster != "":
		return r.cluster
	case r.clusterHeader != "":
		return req.Header.Get(r.clusterHeader)
	case len(r.weighted) > 0:
		v := rand.Uint64N(r.totalWeight)
		for _, w := range r.weighted {
			if v < w.end {
				return w.name
			}
		}
	}
	return ""
}

// DirectResponse returns the status and body sluice answers with itself,
// when the route is a direct_response.
func (r *Route) DirectResponse() (status int, body string, ok bool) {
	if r.direct == nil {
		return 0, "", false
	}
	return r.direct.status, r.direct.body, true
}

// AutoHostRewrite reports auto_host_rewrite: the caller sets the Host to the
// chosen upstream host's name.
func (r *Route) AutoHostRewrite() bool { return r.autoHost }

// Timeout is the route's upstream timeout: DefaultTimeout unless
// configured; 0 means none.
func (r *Route) Timeout() time.Duration { return r.timeout }

// IdleTimeout is the route's idle_timeout and whether one is set (when not,
// the connection manager's stream_idle_timeout applies; 0 disables).
func (r *Route) IdleTimeout() (time.Duration, bool) { return r.idle, r.hasIdle }

// Retry is the route's retry policy (or its virtual host's), nil for none.
func (r *Route) Retry() *RetryPolicy { return r.retry }

// Mirrors are the route's request_mirror_policies.
func (r *Route) Mirrors() []Mirror { return r.mirrors }

// PerFilterConfig returns the raw typed_per_filter_config for the filter
// name, the route's over its virtual host's over the configuration's; nil
// when none is set.
func (r *Route) PerFilterConfig(name string) any {
	for _, m := range []map[string]any{r.perFilter, r.vh.perFilter, r.t.perFilter} {
		if v, ok := m[name]; ok {
			return v
		}
	}
	return nil
}

// Mirror is one request_mirror_policies entry.
type Mirror struct {
	// Cluster receives a copy of the request ("" with cluster_header).
	Cluster       string
	clusterHeader string
	// KeepHost is disable_shadow_host_suffix_append.
	KeepHost bool
	fraction fraction
}

// ClusterFor is the cluster a copy of req goes to: Cluster, or the value
// of cluster_header ("" when absent).
func (m Mirror) ClusterFor(req *http.Request) string {
	if m.clusterHeader != "" {
		return req.Header.Get(m.clusterHeader)
	}
	return m.Cluster
}

// Sample reports whether this request is to be mirrored (runtime_fraction;
// all requests when none is set). Each call draws afresh.
func (m Mirror) Sample() bool { return m.fraction.sample() }
