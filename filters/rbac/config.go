package rbac

import (
	"net/netip"
	"strings"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/router"
)

// Config is the rbac filter's typed config, after Envoy's network RBAC
// message, with a sluice extension: SQL permissions and on_sql_deny.
type Config struct {
	// StatPrefix names the stats: <stat_prefix>.rbac.*. Required.
	StatPrefix string `yaml:"stat_prefix" json:"stat_prefix"`
	// Rules are enforced. Nil allows everything (as in Envoy).
	Rules *Rules `yaml:"rules" json:"rules,omitempty"`
	// ShadowRules are evaluated and counted (shadow_allowed, shadow_denied)
	// but never enforced.
	ShadowRules *Rules `yaml:"shadow_rules" json:"shadow_rules,omitempty"`
	// ShadowRulesStatPrefix is put between "rbac." and the shadow stat
	// names, as in Envoy. Default empty.
	ShadowRulesStatPrefix string `yaml:"shadow_rules_stat_prefix" json:"shadow_rules_stat_prefix,omitempty"`
	// OnSQLDeny says what a denied statement does: "error" (default)
	// answers it with the protocol's own error naming the policy and keeps
	// the session; "close" ends the connection, as Envoy does.
	OnSQLDeny string `yaml:"on_sql_deny" json:"on_sql_deny"`
}

// Rules is Envoy's RBAC message: an action and named policies.
type Rules struct {
	// Action is ALLOW (default: only what a policy matches is allowed),
	// DENY (what a policy matches is denied) or LOG (everything is allowed;
	// a match is recorded in the access log).
	Action   string             `yaml:"action" json:"action"`
	Policies map[string]*Policy `yaml:"policies" json:"policies"`
}

// Policy matches when any permission and any principal match.
type Policy struct {
	Permissions []*Permission `yaml:"permissions" json:"permissions"`
	Principals  []*Principal  `yaml:"principals" json:"principals"`
}

// Permission is one of Envoy's permission rules (exactly one field set), or
// sql, sluice's statement permission.
type Permission struct {
	Any                 bool                 `yaml:"any" json:"any,omitempty"`
	DestinationPort     uint32               `yaml:"destination_port" json:"destination_port,omitempty"`
	DestinationIP       *CIDR                `yaml:"destination_ip" json:"destination_ip,omitempty"`
	RequestedServerName *StringMatcher       `yaml:"requested_server_name" json:"requested_server_name,omitempty"`
	SQL                 *SQLPermission       `yaml:"sql" json:"sql,omitempty"`
	ZooKeeper           *ZooKeeperPermission `yaml:"zookeeper" json:"zookeeper,omitempty"`
	Metadata            *MetadataMatcher     `yaml:"metadata" json:"metadata,omitempty"`
	Header              *HeaderMatcher       `yaml:"header" json:"header,omitempty"`     // HTTP only
	URLPath             *PathMatcher         `yaml:"url_path" json:"url_path,omitempty"` // HTTP only
	AndRules            *PermissionSet       `yaml:"and_rules" json:"and_rules,omitempty"`
	OrRules             *PermissionSet       `yaml:"or_rules" json:"or_rules,omitempty"`
	NotRule             *Permission          `yaml:"not_rule" json:"not_rule,omitempty"`
}

// PermissionSet is a list of permissions for and_rules / or_rules.
type PermissionSet struct {
	Rules []*Permission `yaml:"rules" json:"rules"`
}

// SQLPermission matches a statement that performs one of Operations
// ("select", "insert", "update", "delete", "create", "drop", "alter",
// "truncate"; empty: any) on Table ("db.table" or "table", compared as
// sqlmeta.TableMatches does). Without a table ("" or "*") the statement's
// kind also counts, so {operations: [drop]} matches DROP DATABASE, and
// sql: {} matches every statement.
type SQLPermission struct {
	Table      string   `yaml:"table" json:"table,omitempty"`
	Operations []string `yaml:"operations" json:"operations,omitempty"`
}

// Principal is one of Envoy's principal rules (exactly one field set).
type Principal struct {
	Any            bool             `yaml:"any" json:"any,omitempty"`
	SourceIP       *CIDR            `yaml:"source_ip" json:"source_ip,omitempty"`
	DirectRemoteIP *CIDR            `yaml:"direct_remote_ip" json:"direct_remote_ip,omitempty"`
	RemoteIP       *CIDR            `yaml:"remote_ip" json:"remote_ip,omitempty"`
	Authenticated  *Authenticated   `yaml:"authenticated" json:"authenticated,omitempty"`
	Header         *HeaderMatcher   `yaml:"header" json:"header,omitempty"`     // HTTP only
	Metadata       *MetadataMatcher `yaml:"metadata" json:"metadata,omitempty"` // HTTP only
	AndIDs         *PrincipalSet    `yaml:"and_ids" json:"and_ids,omitempty"`
	OrIDs          *PrincipalSet    `yaml:"or_ids" json:"or_ids,omitempty"`
	NotID          *Principal       `yaml:"not_id" json:"not_id,omitempty"`
}

// PrincipalSet is a list of principals for and_ids / or_ids.
type PrincipalSet struct {
	IDs []*Principal `yaml:"ids" json:"ids"`
}

// Authenticated matches a TLS client certificate: principal_name against
// its URI SANs, then DNS SANs, then the subject; without principal_name any
// verified client certificate matches.
type Authenticated struct {
	PrincipalName *StringMatcher `yaml:"principal_name" json:"principal_name,omitempty"`
}

// CIDR is Envoy's CidrRange. PrefixLen defaults to the full address.
type CIDR struct {
	AddressPrefix string  `yaml:"address_prefix" json:"address_prefix"`
	PrefixLen     *uint32 `yaml:"prefix_len" json:"prefix_len,omitempty"`
}

// StringMatcher is Envoy's StringMatcher, from the shared vocabulary.
type StringMatcher = router.StringMatcher

// SafeRegex is an RE2 regular expression matched against the whole value.
type SafeRegex = router.SafeRegex

// NewConfig returns a config with the defaults.
func NewConfig() *Config { return &Config{OnSQLDeny: "error"} }

// Validate checks the config.
func (c *Config) Validate(path string, errs *config.Errors) {
	if c.StatPrefix == "" {
		errs.Add(config.Join(path, "stat_prefix"), "required")
	}
	if c.OnSQLDeny != "error" && c.OnSQLDeny != "close" {
		errs.Add(config.Join(path, "on_sql_deny"), "must be error or close, got %q", c.OnSQLDeny)
	}
	c.Rules.validate(config.Join(path, "rules"), errs)
	c.ShadowRules.validate(config.Join(path, "shadow_rules"), errs)
	for _, r := range []struct {
		name string
		r    *Rules
	}{{"rules", c.Rules}, {"shadow_rules", c.ShadowRules}} {
		if pol := httpOnly(r.r); pol != "" {
			errs.Add(config.Join(config.Join(config.Join(path, r.name), "policies"), pol), "header, url_path, principal metadata and nested metadata paths need an HTTP request: use the rbac HTTP filter")
		}
	}
}

func (r *Rules) validate(path string, errs *config.Errors) {
	if r == nil {
		return
	}
	switch r.Action {
	case "", "ALLOW", "DENY", "LOG":
	default:
		errs.Add(config.Join(path, "action"), "must be ALLOW, DENY or LOG, got %q", r.Action)
	}
	for name, p := range r.Policies {
		pp := config.Join(config.Join(path, "policies"), name)
		if p == nil || len(p.Permissions) == 0 {
			errs.Add(config.Join(pp, "permissions"), "needs at least one permission")
		}
		if p == nil || len(p.Principals) == 0 {
			errs.Add(config.Join(pp, "principals"), "needs at least one principal")
		}
		if p == nil {
			continue
		}
		for i, perm := range p.Permissions {
			perm.validate(config.Index(config.Join(pp, "permissions"), i), errs)
		}
		for i, pr := range p.Principals {
			pr.validate(config.Index(config.Join(pp, "principals"), i), errs)
		}
	}
}

func (p *Permission) validate(path string, errs *config.Errors) {
	if p == nil {
		errs.Add(path, "empty permission")
		return
	}
	n := count(p.Any, p.DestinationPort != 0, p.DestinationIP != nil, p.RequestedServerName != nil, p.SQL != nil,
		p.ZooKeeper != nil, p.Metadata != nil, p.AndRules != nil, p.OrRules != nil, p.NotRule != nil,
		p.Header != nil, p.URLPath != nil)
	if n != 1 {
		errs.Add(path, "set exactly one of any, destination_port, destination_ip, requested_server_name, sql, zookeeper, metadata, header, url_path, and_rules, or_rules, not_rule (%d set)", n)
	}
	if p.Header != nil {
		p.Header.Validate(config.Join(path, "header"), errs)
	}
	if p.URLPath != nil {
		if p.URLPath.Path == nil {
			errs.Add(config.Join(path, "url_path.path"), "required")
		}
		p.URLPath.Path.Validate(config.Join(path, "url_path.path"), errs)
	}
	p.ZooKeeper.validate(config.Join(path, "zookeeper"), errs)
	p.Metadata.validate(config.Join(path, "metadata"), errs)
	p.DestinationIP.validate(config.Join(path, "destination_ip"), errs)
	p.RequestedServerName.Validate(config.Join(path, "requested_server_name"), errs)
	if p.SQL != nil {
		for i, op := range p.SQL.Operations {
			if op == "" || strings.ToLower(op) != op {
				errs.Add(config.Index(config.Join(path, "sql.operations"), i), "operations are lower-case names (select, delete, ...), got %q", op)
			}
		}
	}
	for _, set := range []struct {
		name string
		s    *PermissionSet
	}{{"and_rules", p.AndRules}, {"or_rules", p.OrRules}} {
		if set.s == nil {
			continue
		}
		if len(set.s.Rules) == 0 {
			errs.Add(config.Join(path, set.name+".rules"), "needs at least one rule")
		}
		for i, r := range set.s.Rules {
			r.validate(config.Index(config.Join(path, set.name+".rules"), i), errs)
		}
	}
	if p.NotRule != nil {
		p.NotRule.validate(config.Join(path, "not_rule"), errs)
	}
}

func (p *Principal) validate(path string, errs *config.Errors) {
	if p == nil {
		errs.Add(path, "empty principal")
		return
	}
	n := count(p.Any, p.SourceIP != nil, p.DirectRemoteIP != nil, p.RemoteIP != nil, p.Authenticated != nil,
		p.AndIDs != nil, p.OrIDs != nil, p.NotID != nil, p.Header != nil, p.Metadata != nil)
	if n != 1 {
		errs.Add(path, "set exactly one of any, source_ip, direct_remote_ip, remote_ip, authenticated, header, metadata, and_ids, or_ids, not_id (%d set)", n)
	}
	if p.Header != nil {
		p.Header.Validate(config.Join(path, "header"), errs)
	}
	p.Metadata.validate(config.Join(path, "metadata"), errs)
	p.SourceIP.validate(config.Join(path, "source_ip"), errs)
	p.DirectRemoteIP.validate(config.Join(path, "direct_remote_ip"), errs)
	p.RemoteIP.validate(config.Join(path, "remote_ip"), errs)
	if p.Authenticated != nil {
		p.Authenticated.PrincipalName.Validate(config.Join(path, "authenticated.principal_name"), errs)
	}
	for _, set := range []struct {
		name string
		s    *PrincipalSet
	}{{"and_ids", p.AndIDs}, {"or_ids", p.OrIDs}} {
		if set.s == nil {
			continue
		}
		if len(set.s.IDs) == 0 {
			errs.Add(config.Join(path, set.name+".ids"), "needs at least one id")
		}
		for i, id := range set.s.IDs {
			id.validate(config.Index(config.Join(path, set.name+".ids"), i), errs)
		}
	}
	if p.NotID != nil {
		p.NotID.validate(config.Join(path, "not_id"), errs)
	}
}

func (c *CIDR) validate(path string, errs *config.Errors) {
	if c == nil {
		return
	}
	if _, err := c.prefix(); err != nil {
		errs.Add(path, "%v", err)
	}
}

// prefix parses the range.
func (c *CIDR) prefix() (netip.Prefix, error) {
	a, err := netip.ParseAddr(c.AddressPrefix)
	if err != nil {
		return netip.Prefix{}, err
	}
	bits := a.BitLen()
	if c.PrefixLen != nil {
		bits = int(*c.PrefixLen)
	}
	return a.Unmap().Prefix(min(bits, a.Unmap().BitLen()))
}

func count(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}
