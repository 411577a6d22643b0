package rbac

import (
	"crypto/x509"
	"net/http"
	"sort"

	"github.com/sluice-proxy/sluice/filters"
	httpfilter "github.com/sluice-proxy/sluice/filters/http"
	"github.com/sluice-proxy/sluice/sqlmeta"
)

// tri is a three-valued match: a SQL permission is unknown until a
// statement is seen, so a connection check can neither grant nor refuse on it.
type tri uint8

const (
	no tri = iota
	yes
	unknown
)

func triOf(b bool) tri {
	if b {
		return yes
	}
	return no
}

func (t tri) not() tri {
	switch t {
	case yes:
		return no
	case no:
		return yes
	}
	return unknown
}

// facts is what a check looks at: the session, and the statement when a
// SQL observer asks (nil for the connection check).
type facts struct {
	s    *filters.Session
	stmt *sqlmeta.Statement
	req  *filters.Request // a request observer's operation (ZooKeeper)
	http *http.Request    // the HTTP filter's request
	md   httpfilter.Metadata
}

type matcher func(*facts) tri

// policy is a compiled Policy.
type policy struct {
	name        string
	permissions []matcher
	principals  []matcher
	hasSQL      bool
}

func (p *policy) match(f *facts) tri {
	return and(anyOf(p.permissions, f), anyOf(p.principals, f))
}

func anyOf(ms []matcher, f *facts) tri {
	out := no
	for _, m := range ms {
		switch m(f) {
		case yes:
			return yes
		case unknown:
			out = unknown
		}
	}
	return out
}

func allOf(ms []matcher, f *facts) tri {
	out := yes
	for _, m := range ms {
		switch m(f) {
		case no:
			return no
		case unknown:
			out = unknown
		}
	}
	return out
}

func and(a, b tri) tri {
	if a == no || b == no {
		return no
	}
	if a == yes && b == yes {
		return yes
	}
	return unknown
}

// compilePolicies compiles the policies in name order (so the first match
// is deterministic); hasSQL reports whether any uses a sql permission.
func compilePolicies(ps map[string]*Policy) (out []*policy, hasSQL bool) {
	names := make([]string, 0, len(ps))
	for n := range ps {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := &policy{name: n}
		for _, perm := range ps[n].Permissions {
			p.permissions = append(p.permissions, compilePermission(perm, &p.hasSQL))
		}
		for _, pr := range ps[n].Principals {
			p.principals = append(p.principals, compilePrincipal(pr))
		}
		hasSQL = hasSQL || p.hasSQL
		out = append(out, p)
	}
	return out, hasSQL
}

func compilePermission(p *Permission, hasSQL *bool) matcher {
	switch {
	case p.Any:
		return func(*facts) tri { return yes }
	case p.DestinationPort != 0:
		port := uint16(p.DestinationPort)
		return func(f *facts) tri { return triOf(f.s.Local.Port() == port) }
	case p.DestinationIP != nil:
		pfx, _ := p.DestinationIP.prefix()
		return func(f *facts) tri { return triOf(pfx.Contains(f.s.Local.Addr().Unmap())) }
	case p.RequestedServerName != nil:
		m := p.RequestedServerName.Compile()
		return func(f *facts) tri { return triOf(m.Match(f.s.SNI)) }
	case p.SQL != nil:
		*hasSQL = true
		return compileSQL(p.SQL)
	case p.ZooKeeper != nil:
		return compileZooKeeper(p.ZooKeeper)
	case p.Metadata != nil:
		return compileMetadata(p.Metadata)
	case p.Header != nil:
		return compileHeader(p.Header)
	case p.URLPath != nil:
		return compileURLPath(p.URLPath)
	case p.AndRules != nil:
		ms := compilePermissions(p.AndRules.Rules, hasSQL)
		return func(f *facts) tri { return allOf(ms, f) }
	case p.OrRules != nil:
		ms := compilePermissions(p.OrRules.Rules, hasSQL)
		return func(f *facts) tri { return anyOf(ms, f) }
	case p.NotRule != nil:
		m := compilePermission(p.NotRule, hasSQL)
		return func(f *facts) tri { return m(f).not() }
	}
	return func(*facts) tri { return no }
}

func compilePermissions(ps []*Permission, hasSQL *bool) []matcher {
	out := make([]matcher, len(ps))
	for i, p := range ps {
		out[i] = compilePermission(p, hasSQL)
	}
	return out
}

func compileSQL(p *SQLPermission) matcher {
	table := p.Table
	if table == "*" {
		table = ""
	}
	ops := make([]sqlmeta.Op, len(p.Operations))
	for i, o := range p.Operations {
		ops[i] = sqlmeta.Op(o)
	}
	return func(f *facts) tri {
		if f.stmt == nil {
			if f.req != nil {
				return no // a ZooKeeper request is no statement
			}
			return unknown
		}
		if table == "" {
			if len(ops) == 0 {
				return yes // sql: {} is any statement, with or without tables
			}
			for _, want := range ops { // DROP DATABASE, SET...: no tables, a kind
				if string(want) == f.stmt.Kind {
					return yes
				}
			}
		}
		for t, tops := range f.stmt.Tables {
			if table != "" && !sqlmeta.TableMatches(table, t) {
				continue
			}
			if len(ops) == 0 {
				return yes
			}
			for _, o := range tops {
				for _, want := range ops {
					if o == want {
						return yes
					}
				}
			}
		}
		return no
	}
}

func compilePrincipal(p *Principal) matcher {
	switch {
	case p.Any:
		return func(*facts) tri { return yes }
	case p.DirectRemoteIP != nil:
		// The socket's peer, even behind a PROXY protocol header.
		pfx, _ := p.DirectRemoteIP.prefix()
		return func(f *facts) tri {
			a := f.s.DirectRemote
			if !a.IsValid() {
				a = f.s.Remote
			}
			return triOf(pfx.Contains(a.Addr().Unmap()))
		}
	case p.SourceIP != nil, p.RemoteIP != nil:
		// The client as Envoy sees it: a PROXY header's source when the
		// proxy_protocol listener filter read one.
		c := p.SourceIP
		if c == nil {
			c = p.RemoteIP
		}
		pfx, _ := c.prefix()
		return func(f *facts) tri { return triOf(pfx.Contains(f.s.Remote.Addr().Unmap())) }
	case p.Authenticated != nil:
		var m func(string) bool
		if p.Authenticated.PrincipalName != nil {
			m = p.Authenticated.PrincipalName.Compile().Match
		}
		return func(f *facts) tri { return triOf(authenticated(f.s, m)) }
	case p.Header != nil:
		return compileHeader(p.Header)
	case p.Metadata != nil:
		return compileMetadata(p.Metadata)
	case p.AndIDs != nil:
		ms := compilePrincipals(p.AndIDs.IDs)
		return func(f *facts) tri { return allOf(ms, f) }
	case p.OrIDs != nil:
		ms := compilePrincipals(p.OrIDs.IDs)
		return func(f *facts) tri { return anyOf(ms, f) }
	case p.NotID != nil:
		m := compilePrincipal(p.NotID)
		return func(f *facts) tri { return m(f).not() }
	}
	return func(*facts) tri { return no }
}

func compilePrincipals(ps []*Principal) []matcher {
	out := make([]matcher, len(ps))
	for i, p := range ps {
		out[i] = compilePrincipal(p)
	}
	return out
}

// authenticated matches the verified client certificate as Envoy does: URI
// SANs, then DNS SANs, then the subject.
func authenticated(s *filters.Session, m func(string) bool) bool {
	if s.TLS == nil || len(s.TLS.PeerCertificates) == 0 {
		return false
	}
	if m == nil {
		return true
	}
	cert := s.TLS.PeerCertificates[0]
	for _, u := range cert.URIs {
		if m(u.String()) {
			return true
		}
	}
	for _, d := range cert.DNSNames {
		if m(d) {
			return true
		}
	}
	return m(subject(cert))
}

func subject(c *x509.Certificate) string { return c.Subject.String() }
