package config

import (
	"net/http"
	"strings"
)

// Validate checks what Envoy refuses at load: duplicate domains, misplaced
// wildcards, routes without exactly one action or path match. Cluster names
// are checked by the owner (the connection manager knows the clusters; see
// Clusters).
func (c *RouteConfiguration) Validate(path string, errs *Errors) {
	seen := map[string]string{}
	for i := range c.VirtualHosts {
		vp := Index(Join(path, "virtual_hosts"), i)
		for j, d := range c.VirtualHosts[i].Domains {
			dp := Index(Join(vp, "domains"), j)
			d = strings.ToLower(d)
			if prev, dup := seen[d]; dup {
				errs.Add(dp, "domain %q is already used by %s (domains must be unique)", d, prev)
			}
			seen[d] = vp
		}
	}
	checkMutations(path, c.Mutations(), errs)
	checkMirrors(path, c.RequestMirrorPolicies, errs)
	for i, h := range c.InternalOnlyHeaders {
		checkHeaderName(Index(Join(path, "internal_only_headers"), i), h, errs)
	}
}

// Clusters returns every cluster name the routes name statically (cluster,
// weighted_clusters, request_mirror_policies), for a cross-check.
func (c *RouteConfiguration) Clusters() []string {
	out := appendMirrorClusters(nil, c.RequestMirrorPolicies)
	for _, vh := range c.VirtualHosts {
		out = appendMirrorClusters(out, vh.RequestMirrorPolicies)
		for _, r := range vh.Routes {
			if a := r.Route; a != nil {
				if a.Cluster != "" {
					out = append(out, a.Cluster)
				}
				if a.WeightedClusters != nil {
					for _, w := range a.WeightedClusters.Clusters {
						out = append(out, w.Name)
					}
				}
				out = appendMirrorClusters(out, a.RequestMirrorPolicies)
			}
		}
	}
	return out
}

// Validate checks a virtual host's domains and header mutations.
func (v *VirtualHost) Validate(path string, errs *Errors) {
	if v.Name == "" {
		errs.Add(Join(path, "name"), "required")
	}
	if len(v.Domains) == 0 {
		errs.Add(Join(path, "domains"), "at least one domain is required")
	}
	for i, d := range v.Domains {
		dp := Index(Join(path, "domains"), i)
		switch n := strings.Count(d, "*"); {
		case d == "":
			errs.Add(dp, "empty domain")
		case n > 1 || (n == 1 && d != "*" && !strings.HasPrefix(d, "*") && !strings.HasSuffix(d, "*")):
			errs.Add(dp, "a wildcard is allowed only as the whole domain, its first or its last character")
		}
	}
	checkMutations(path, v.Mutations(), errs)
	checkRequireTLS(path, v.RequireTLS, errs)
	checkMirrors(path, v.RequestMirrorPolicies, errs)
}

// Validate checks that a route has one path match and one action.
func (r *Route) Validate(path string, errs *Errors) {
	n := 0
	for _, set := range []bool{r.Route != nil, r.Redirect != nil, r.DirectResponse != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		errs.Add(path, "set exactly one of route, redirect, direct_response (%d set)", n)
	}
	if a := r.Route; a != nil && a.PrefixRewrite != "" && r.Match.SafeRegex != nil {
		errs.Add(Join(path, "route.prefix_rewrite"), "prefix_rewrite cannot be used with a safe_regex match (use regex_rewrite)")
	}
	if a := r.Redirect; a != nil && a.PrefixRewrite != "" && r.Match.SafeRegex != nil {
		errs.Add(Join(path, "redirect.prefix_rewrite"), "prefix_rewrite cannot be used with a safe_regex match (use regex_rewrite)")
	}
	checkMutations(path, r.Mutations(), errs)
}

// Validate checks the path specifier and the conditions.
func (m *RouteMatch) Validate(path string, errs *Errors) {
	n := 0
	for _, set := range []bool{m.Prefix != nil, m.Path != nil, m.SafeRegex != nil, m.PathSeparatedPrefix != nil, m.ConnectMatcher != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		errs.Add(path, "set exactly one of prefix, path, safe_regex, path_separated_prefix, connect_matcher (%d set)", n)
	}
	if p := m.PathSeparatedPrefix; p != nil && (!strings.HasPrefix(*p, "/") || strings.HasSuffix(*p, "/") || strings.ContainsAny(*p, "?#")) {
		errs.Add(Join(path, "path_separated_prefix"), "must start with '/', not end with '/', and hold no '?' or '#'")
	}
	if f := m.RuntimeFraction; f != nil {
		checkFraction(Join(path, "runtime_fraction"), f, errs)
	}
}

func checkFraction(path string, f *RuntimeFraction, errs *Errors) {
	if f.DefaultValue.Scale() == 0 {
		errs.Add(Join(path, "default_value.denominator"), "unknown denominator %q (HUNDRED, TEN_THOUSAND, MILLION)", f.DefaultValue.Denominator)
	}
}

// Validate checks that exactly one kind of match is set.
func (h *HeaderMatcher) Validate(path string, errs *Errors) {
	checkHeaderName(Join(path, "name"), h.Name, errs)
	n := 0
	for _, set := range []bool{h.StringMatch != nil, h.PresentMatch != nil, h.RangeMatch != nil, h.ExactMatch != nil,
		h.PrefixMatch != "", h.SuffixMatch != "", h.ContainsMatch != "", h.SafeRegexMatch != nil} {
		if set {
			n++
		}
	}
	if n > 1 {
		errs.Add(path, "set at most one of string_match, present_match, range_match, exact_match, prefix_match, suffix_match, contains_match, safe_regex_match (%d set)", n)
	}
	if r := h.RangeMatch; r != nil && r.Start >= r.End {
		errs.Add(Join(path, "range_match"), "start (%d) must be below end (%d)", r.Start, r.End)
	}
}

// Validate checks the parameter name.
func (q *QueryParameterMatcher) Validate(path string, errs *Errors) {
	if q.Name == "" {
		errs.Add(Join(path, "name"), "required")
	}
	if q.StringMatch != nil && q.PresentMatch {
		errs.Add(path, "set string_match or present_match, not both")
	}
}

// Validate checks the cluster specifier and the rewrites.
func (a *RouteAction) Validate(path string, errs *Errors) {
	n := 0
	for _, set := range []bool{a.Cluster != "", a.ClusterHeader != "", a.WeightedClusters != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		errs.Add(path, "set exactly one of cluster, cluster_header, weighted_clusters (%d set)", n)
	}
	if a.PrefixRewrite != "" && a.RegexRewrite != nil {
		errs.Add(path, "set prefix_rewrite or regex_rewrite, not both")
	}
	hosts := 0
	for _, set := range []bool{a.HostRewriteLiteral != "", a.AutoHostRewrite, a.HostRewriteHeader != "", a.HostRewritePathRegex != nil} {
		if set {
			hosts++
		}
	}
	switch a.ClusterNotFoundResponseCode {
	case "", "SERVICE_UNAVAILABLE", "NOT_FOUND", "INTERNAL_SERVER_ERROR":
	default:
		errs.Add(Join(path, "cluster_not_found_response_code"), "unknown code %q (SERVICE_UNAVAILABLE, NOT_FOUND, INTERNAL_SERVER_ERROR)", a.ClusterNotFoundResponseCode)
	}
	if hosts > 1 {
		errs.Add(path, "set at most one of host_rewrite_literal, auto_host_rewrite, host_rewrite_header")
	}
	if a.ClusterHeader != "" {
		checkHeaderName(Join(path, "cluster_header"), a.ClusterHeader, errs)
	}
	checkMirrors(path, a.RequestMirrorPolicies, errs)
}

// Validate checks the weights.
func (w *WeightedClusters) Validate(path string, errs *Errors) {
	if len(w.Clusters) == 0 {
		errs.Add(Join(path, "clusters"), "at least one cluster is required")
	}
	var sum uint64
	for i, c := range w.Clusters {
		if c.Name == "" {
			errs.Add(Join(Index(Join(path, "clusters"), i), "name"), "required")
		}
		sum += uint64(c.Weight)
	}
	if len(w.Clusters) > 0 && sum == 0 {
		errs.Add(Join(path, "clusters"), "the weights add up to 0")
	}
	if sum > 1<<32-1 {
		errs.Add(Join(path, "clusters"), "the weights add up to more than 4294967295")
	}
	if w.TotalWeight != 0 && uint64(w.TotalWeight) != sum {
		errs.Add(Join(path, "total_weight"), "%d is not the sum of the weights (%d)", w.TotalWeight, sum)
	}
}

// Validate checks the retry policy's back-off.
func (r *RetryPolicy) Validate(path string, errs *Errors) {
	for i, p := range r.RetryHostPredicate {
		if p.Name != PreviousHosts {
			errs.Add(Join(Index(Join(path, "retry_host_predicate"), i), "name"), "%q: sluice has only %s", p.Name, PreviousHosts)
		}
	}
	if b := r.RetryBackOff; b != nil {
		if b.BaseInterval <= 0 {
			errs.Add(Join(path, "retry_back_off.base_interval"), "must be above 0")
		}
		if b.MaxInterval != nil && *b.MaxInterval < b.BaseInterval {
			errs.Add(Join(path, "retry_back_off.max_interval"), "must not be below base_interval")
		}
	}
}

// Validate checks that exactly one hash source is set.
func (h *HashPolicy) Validate(path string, errs *Errors) {
	n := 0
	for _, set := range []bool{h.Header != nil, h.Cookie != nil, h.ConnectionProperties != nil, h.QueryParameter != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		errs.Add(path, "set exactly one of header, cookie, connection_properties, query_parameter (%d set)", n)
	}
	if h.Header != nil {
		checkHeaderName(Join(path, "header.header_name"), h.Header.HeaderName, errs)
	}
	if h.Cookie != nil && h.Cookie.Name == "" {
		errs.Add(Join(path, "cookie.name"), "required")
	}
	if h.QueryParameter != nil && h.QueryParameter.Name == "" {
		errs.Add(Join(path, "query_parameter.name"), "required")
	}
}

// Validate checks the response code and the exclusive rewrites.
func (r *RedirectAction) Validate(path string, errs *Errors) {
	if _, ok := RedirectCodes[r.ResponseCode]; !ok {
		errs.Add(Join(path, "response_code"), "unknown code %q (MOVED_PERMANENTLY, FOUND, SEE_OTHER, TEMPORARY_REDIRECT, PERMANENT_REDIRECT)", r.ResponseCode)
	}
	if r.HTTPSRedirect && r.SchemeRedirect != "" {
		errs.Add(path, "set https_redirect or scheme_redirect, not both")
	}
	n := 0
	for _, set := range []bool{r.PathRedirect != "", r.PrefixRewrite != "", r.RegexRewrite != nil} {
		if set {
			n++
		}
	}
	if n > 1 {
		errs.Add(path, "set at most one of path_redirect, prefix_rewrite, regex_rewrite")
	}
}

// Validate checks the status (Envoy allows 200 to 599).
func (d *DirectResponse) Validate(path string, errs *Errors) {
	if d.Status < 200 || d.Status > 599 {
		errs.Add(Join(path, "status"), "%d is not an HTTP status from 200 to 599", d.Status)
	}
}

var appendActions = map[string]bool{"": true, "APPEND_IF_EXISTS_OR_ADD": true, "ADD_IF_ABSENT": true,
	"OVERWRITE_IF_EXISTS_OR_ADD": true, "OVERWRITE_IF_EXISTS": true}

func checkMutations(path string, m HeaderMutations, errs *Errors) {
	for _, l := range []struct {
		name string
		adds []HeaderValueOption
	}{{"request_headers_to_add", m.RequestHeadersToAdd}, {"response_headers_to_add", m.ResponseHeadersToAdd}} {
		for i, o := range l.adds {
			p := Index(Join(path, l.name), i)
			checkHeaderName(Join(p, "header.key"), o.Header.Key, errs)
			if !appendActions[o.AppendAction] {
				errs.Add(Join(p, "append_action"), "unknown action %q", o.AppendAction)
			}
			if o.Append != nil && o.AppendAction != "" {
				errs.Add(p, "set append or append_action, not both")
			}
		}
	}
	for i, h := range m.RequestHeadersToRemove {
		checkHeaderName(Index(Join(path, "request_headers_to_remove"), i), h, errs)
	}
	for i, h := range m.ResponseHeadersToRemove {
		checkHeaderName(Index(Join(path, "response_headers_to_remove"), i), h, errs)
	}
}

// checkHeaderName refuses an empty name or one net/http cannot carry. The
// pseudo-headers (":authority", ":path", ":method", ":scheme") are allowed
// where a header is read.
func checkHeaderName(path, name string, errs *Errors) {
	if name == "" {
		errs.Add(path, "required")
		return
	}
	if strings.HasPrefix(name, ":") {
		return
	}
	if http.CanonicalHeaderKey(name) == "" || strings.ContainsAny(name, " \t\r\n:") {
		errs.Add(path, "invalid header name %q", name)
	}
}
