package rbac

import (
	"net/http"
	"net/netip"
	"slices"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/filters"
	httpfilter "github.com/sluice-proxy/sluice/filters/http"
	"github.com/sluice-proxy/sluice/router"
)

// HeaderMatcher is Envoy's HeaderMatcher, from the route vocabulary.
type HeaderMatcher = config.HeaderMatcher

// PathMatcher is Envoy's PathMatcher: the request path without its query.
type PathMatcher struct {
	Path *StringMatcher `yaml:"path" json:"path"`
}

// HTTP is the policy engine for HTTP requests (the rbac HTTP filter): the
// same policies, with the header, url_path and metadata rules that need a
// request.
type HTTP struct {
	rules, shadow *engine
}

// CompileHTTP compiles validated rules and shadow rules (either nil).
func CompileHTTP(rules, shadow *Rules) *HTTP {
	h := &HTTP{}
	h.rules, _ = newEngine(rules)
	h.shadow, _ = newEngine(shadow)
	return h
}

// Verdict is the answer of an HTTP check.
type Verdict struct {
	// Enforced is false without rules (everything is allowed, nothing
	// counted).
	Enforced, Allowed bool
	// Logged: the action is LOG and a policy matched.
	Logged bool
	// Policy is the first matching policy ("" for none).
	Policy string
	// Shadowed is false without shadow rules; ShadowAllowed their answer.
	Shadowed, ShadowAllowed bool
	// ShadowPolicy is the first matching shadow policy ("" for none).
	ShadowPolicy string
}

// Check judges a request: the connection facts come from the request
// (RemoteAddr, TLS, the local address net/http puts in its context), the
// JWT payloads and other filters' data from its metadata.
func (h *HTTP) Check(r *http.Request) Verdict {
	s := &filters.Session{TLS: r.TLS}
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		s.Remote = ap
	}
	// remote_ip is Envoy's downstream remote address (the trusted client
	// of x-forwarded-for); direct_remote_ip stays the connection's peer.
	if st := httpfilter.FromContext(r.Context()); st != nil && st.ClientAddr.IsValid() && st.ClientAddr != s.Remote.Addr().Unmap() {
		s.DirectRemote, s.Remote = s.Remote, netip.AddrPortFrom(st.ClientAddr, 0)
	}
	if la, ok := r.Context().Value(http.LocalAddrContextKey).(interface{ String() string }); ok {
		if ap, err := netip.ParseAddrPort(la.String()); err == nil {
			s.Local = ap
		}
	}
	if r.TLS != nil {
		s.SNI = r.TLS.ServerName
	}
	f := &facts{s: s, http: r, md: httpfilter.MetadataFromContext(r.Context())}
	var v Verdict
	if h.shadow != nil {
		d := h.shadow.decide(f)
		v.Shadowed, v.ShadowAllowed, v.ShadowPolicy = true, d.allowed, d.policy
	}
	if h.rules != nil {
		d := h.rules.decide(f)
		v.Enforced, v.Allowed, v.Policy = true, d.allowed, d.policy
		v.Logged = h.rules.action == "LOG" && d.matched
	}
	return v
}

// compileHeader matches a request header with the router's compiled
// HeaderMatchers (Envoy's HeaderUtility, the same rules a route applies); a
// connection (no request) never matches.
func compileHeader(h *HeaderMatcher) matcher {
	m := router.CompileHeaders([]config.HeaderMatcher{*h})
	return func(f *facts) tri {
		if f.http == nil {
			return no
		}
		return triOf(m.Match(f.http))
	}
}

func compileURLPath(p *PathMatcher) matcher {
	m := p.Path.Compile().Match
	return func(f *facts) tri {
		if f.http == nil {
			return no
		}
		return triOf(m(f.http.URL.Path))
	}
}

// httpMetadata matches an HTTP request's metadata (jwt_authn's payload
// under envoy.filters.http.jwt_authn): the path walks nested maps.
func httpMetadata(m *MetadataMatcher, f *facts, str func(string) bool, present bool) bool {
	var v any = map[string]any(f.md[m.Filter])
	for _, seg := range m.Path {
		mm, ok := v.(map[string]any)
		if ok {
			v, ok = mm[seg.Key]
		}
		if !ok {
			return str == nil && !present // present_match: false matches the absent
		}
	}
	if str == nil {
		return present
	}
	switch x := v.(type) {
	case string:
		return str(x)
	case []any: // a claim list (aud, groups): any element
		for _, e := range x {
			if s, ok := e.(string); ok && str(s) {
				return true
			}
		}
	}
	return false
}

// httpOnly reports the first policy in rules using an HTTP-only rule (for
// the network filter, which has no request to judge them on).
func httpOnly(r *Rules) string {
	return findRule(r, func(p *Permission) bool {
		return p.Header != nil || p.URLPath != nil || p.Metadata != nil && len(p.Metadata.Path) > 1
	}, func(p *Principal) bool { return p.Header != nil || p.Metadata != nil })
}

// ValidateHTTP checks rules for the HTTP filter: as the network filter's,
// without sql and zookeeper permissions (an HTTP request is neither).
func (r *Rules) ValidateHTTP(path string, errs *config.Errors) {
	r.validate(path, errs)
	if pol := findRule(r, func(p *Permission) bool { return p.SQL != nil || p.ZooKeeper != nil },
		func(*Principal) bool { return false }); pol != "" {
		errs.Add(config.Join(config.Join(path, "policies"), pol), "sql and zookeeper permissions are for the network rbac filter")
	}
}

// findRule returns the first policy (by name) with a permission or
// principal, at any depth, that perm or prin picks.
func findRule(r *Rules, perm func(*Permission) bool, prin func(*Principal) bool) string {
	if r == nil {
		return ""
	}
	var walkPerm func(p *Permission) bool
	walkPerm = func(p *Permission) bool {
		if p == nil {
			return false
		}
		if perm(p) || walkPerm(p.NotRule) {
			return true
		}
		for _, set := range []*PermissionSet{p.AndRules, p.OrRules} {
			if set != nil && slices.ContainsFunc(set.Rules, walkPerm) {
				return true
			}
		}
		return false
	}
	var walkPrin func(p *Principal) bool
	walkPrin = func(p *Principal) bool {
		if p == nil {
			return false
		}
		if prin(p) || walkPrin(p.NotID) {
			return true
		}
		for _, set := range []*PrincipalSet{p.AndIDs, p.OrIDs} {
			if set != nil && slices.ContainsFunc(set.IDs, walkPrin) {
				return true
			}
		}
		return false
	}
	names := make([]string, 0, len(r.Policies))
	for n := range r.Policies {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		p := r.Policies[n]
		if p != nil && (slices.ContainsFunc(p.Permissions, walkPerm) || slices.ContainsFunc(p.Principals, walkPrin)) {
			return n
		}
	}
	return ""
}
