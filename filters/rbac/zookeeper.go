package rbac

import (
	"slices"
	"strings"

	zk "github.com/sluice-proxy/sluice/codec/zookeeper"
	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/filters"
)

// ZooKeeperPermission matches a ZooKeeper operation (sluice's, in the
// spirit of sql): one of Operations (Envoy's opnames: getdata, create,
// setdata, delete, exists, getchildren, getchildren2, ...; empty: any) on
// a znode under PathPrefix (the znode itself or a descendant: "/app"
// matches /app and /app/x, not /apps; "/" or a prefix ending in "/"
// compares as a plain string prefix) and matching Path (a string matcher;
// either may be left out). Each operation of a multi is judged on its own.
type ZooKeeperPermission struct {
	PathPrefix string         `yaml:"path_prefix" json:"path_prefix,omitempty"`
	Path       *StringMatcher `yaml:"path" json:"path,omitempty"`
	Operations []string       `yaml:"operations" json:"operations,omitempty"`
}

// MetadataMatcher is Envoy's metadata permission: the value under Path in
// the dynamic metadata namespace Filter. Only request observers' metadata
// is known to rbac (zookeeper_proxy's, envoy.filters.network.zookeeper_proxy),
// judged per request; at connect time it is unknown, as a sql permission.
type MetadataMatcher struct {
	Filter string         `yaml:"filter" json:"filter"`
	Path   []MetadataPath `yaml:"path" json:"path"`
	Value  *ValueMatcher  `yaml:"value" json:"value"`
	Invert bool           `yaml:"invert" json:"invert,omitempty"`
}

// MetadataPath is one segment of a MetadataMatcher's path.
type MetadataPath struct {
	Key string `yaml:"key" json:"key"`
}

// ValueMatcher is the part of Envoy's ValueMatcher rbac supports.
type ValueMatcher struct {
	StringMatch  *StringMatcher `yaml:"string_match" json:"string_match,omitempty"`
	PresentMatch *bool          `yaml:"present_match" json:"present_match,omitempty"`
}

func (z *ZooKeeperPermission) validate(path string, errs *config.Errors) {
	if z == nil {
		return
	}
	if z.PathPrefix != "" && !strings.HasPrefix(z.PathPrefix, "/") {
		errs.Add(config.Join(path, "path_prefix"), "a znode path starts with /, got %q", z.PathPrefix)
	}
	z.Path.Validate(config.Join(path, "path"), errs)
	names := zk.OpNames()
	for i, op := range z.Operations {
		if !slices.Contains(names, op) {
			errs.Add(config.Index(config.Join(path, "operations"), i), "unknown ZooKeeper operation %q (Envoy's opnames: getdata, create, setdata, delete, ...)", op)
		}
	}
}

func (m *MetadataMatcher) validate(path string, errs *config.Errors) {
	if m == nil {
		return
	}
	if m.Filter == "" {
		errs.Add(config.Join(path, "filter"), "required")
	}
	if len(m.Path) == 0 || slices.ContainsFunc(m.Path, func(p MetadataPath) bool { return p.Key == "" }) {
		errs.Add(config.Join(path, "path"), "needs segments with keys (one for the flat metadata of request observers; HTTP metadata nests)")
	}
	switch {
	case m.Value == nil:
		errs.Add(config.Join(path, "value"), "required")
	case (m.Value.StringMatch == nil) == (m.Value.PresentMatch == nil):
		errs.Add(config.Join(path, "value"), "set exactly one of string_match, present_match")
	default:
		m.Value.StringMatch.Validate(config.Join(path, "value.string_match"), errs)
	}
}

func compileZooKeeper(z *ZooKeeperPermission) matcher {
	prefix := z.PathPrefix
	var pm func(string) bool
	if z.Path != nil {
		pm = z.Path.Compile().Match
	}
	ops := z.Operations
	return func(f *facts) tri {
		if f.req == nil {
			if f.stmt != nil {
				return no
			}
			return unknown
		}
		if len(ops) > 0 && !slices.Contains(ops, f.req.Op) {
			return no
		}
		if prefix != "" && !underPrefix(f.req.Path, prefix) {
			return no
		}
		return triOf(pm == nil || pm(f.req.Path))
	}
}

// underPrefix: the znode itself or a descendant.
func underPrefix(path, prefix string) bool {
	if strings.HasSuffix(prefix, "/") {
		return strings.HasPrefix(path, prefix)
	}
	return path == prefix || strings.HasPrefix(path, prefix) && path[len(prefix)] == '/'
}

func compileMetadata(m *MetadataMatcher) matcher {
	key, ns := m.Path[0].Key, m.Filter
	var sm func(string) bool
	if m.Value.StringMatch != nil {
		sm = m.Value.StringMatch.Compile().Match
	}
	present := m.Value.PresentMatch != nil && *m.Value.PresentMatch
	return func(f *facts) tri {
		if f.http != nil {
			return triOf(httpMetadata(m, f, sm, present) != m.Invert)
		}
		if f.req == nil {
			if f.stmt != nil {
				return no
			}
			return unknown
		}
		var hit bool
		if f.req.Namespace == ns && f.req.Metadata != nil && len(m.Path) == 1 {
			v, ok := f.req.Metadata.Get(key)
			if sm != nil {
				hit = ok && sm(v)
			} else {
				hit = ok == present
			}
		}
		return triOf(hit != m.Invert)
	}
}

// usesRequests reports whether a policy uses a zookeeper or metadata
// permission, so the filter registers as a request gate.
func usesRequests(r *Rules) bool {
	if r == nil {
		return false
	}
	var walk func(p *Permission) bool
	walk = func(p *Permission) bool {
		switch {
		case p == nil:
			return false
		case p.ZooKeeper != nil, p.Metadata != nil:
			return true
		case p.NotRule != nil:
			return walk(p.NotRule)
		}
		for _, set := range []*PermissionSet{p.AndRules, p.OrRules} {
			if set != nil && slices.ContainsFunc(set.Rules, walk) {
				return true
			}
		}
		return false
	}
	for _, p := range r.Policies {
		if p != nil && slices.ContainsFunc(p.Permissions, walk) {
			return true
		}
	}
	return false
}

// CheckRequest checks one request of a request observer; on_sql_deny says
// whether a refusal is answered in-band (error) or closes (close).
func (f *Filter) CheckRequest(s *filters.Session, r *filters.Request) filters.SQLVerdict {
	fa := &facts{s: s, req: r}
	f.checkShadow(fa)
	if ok, pol := f.check(s, fa); !ok {
		if f.cfg.OnSQLDeny == "close" {
			return filters.SQLVerdict{Close: true, Policy: pol}
		}
		return filters.SQLVerdict{Deny: true, Policy: pol}
	}
	return filters.SQLVerdict{}
}
