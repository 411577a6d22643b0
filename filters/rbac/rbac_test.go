package rbac

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"net/netip"
	"testing"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/sqlmeta"
	"github.com/sluice-proxy/sluice/stats"
)

func u32(v uint32) *uint32 { return &v }
func str(s string) *string { return &s }

func session(remote string, port uint16, sni string, subject string) *filters.Session {
	s := &filters.Session{Remote: netip.MustParseAddrPort(remote), Local: netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port), SNI: sni}
	if subject != "" {
		s.TLS = &tls.ConnectionState{PeerCertificates: []*x509.Certificate{{Subject: pkix.Name{CommonName: subject}, DNSNames: []string{subject + ".dns"}}}}
	}
	return s
}

func stmt(kind, table string, ops ...sqlmeta.Op) sqlmeta.Statement {
	st := sqlmeta.Statement{Kind: kind}
	for _, o := range ops {
		st.Add(table, o)
	}
	return st
}

// TestConnectionChecks: connection-level decisions for each principal and
// permission kind, with unknown SQL permissions neither granting nor refusing.
func TestConnectionChecks(t *testing.T) {
	anyone := []*Principal{{Any: true}}
	for _, tc := range []struct {
		name  string
		rules *Rules
		s     *filters.Session
		want  bool
	}{
		{"no rules", nil, session("10.1.2.3:5", 3306, "", ""), true},
		{"allow cidr in", &Rules{Policies: map[string]*Policy{"p": {Permissions: []*Permission{{Any: true}},
			Principals: []*Principal{{SourceIP: &CIDR{AddressPrefix: "10.0.0.0", PrefixLen: u32(8)}}}}}}, session("10.1.2.3:5", 3306, "", ""), true},
		{"allow cidr out", &Rules{Policies: map[string]*Policy{"p": {Permissions: []*Permission{{Any: true}},
			Principals: []*Principal{{SourceIP: &CIDR{AddressPrefix: "10.0.0.0", PrefixLen: u32(8)}}}}}}, session("192.168.1.1:5", 3306, "", ""), false},
		{"deny port", &Rules{Action: "DENY", Policies: map[string]*Policy{"p": {Permissions: []*Permission{{DestinationPort: 3306}},
			Principals: anyone}}}, session("10.1.2.3:5", 3306, "", ""), false},
		{"deny other port", &Rules{Action: "DENY", Policies: map[string]*Policy{"p": {Permissions: []*Permission{{DestinationPort: 5432}},
			Principals: anyone}}}, session("10.1.2.3:5", 3306, "", ""), true},
		{"allow sni prefix", &Rules{Policies: map[string]*Policy{"p": {Permissions: []*Permission{{RequestedServerName: &StringMatcher{Prefix: "db."}}},
			Principals: anyone}}}, session("10.1.2.3:5", 3306, "db.example", ""), true},
		{"allow cert subject", &Rules{Policies: map[string]*Policy{"p": {Permissions: []*Permission{{Any: true}},
			Principals: []*Principal{{Authenticated: &Authenticated{PrincipalName: &StringMatcher{Exact: str("CN=app")}}}}}}}, session("10.1.2.3:5", 3306, "", "app"), true},
		{"allow cert dns san", &Rules{Policies: map[string]*Policy{"p": {Permissions: []*Permission{{Any: true}},
			Principals: []*Principal{{Authenticated: &Authenticated{PrincipalName: &StringMatcher{Suffix: ".dns"}}}}}}}, session("10.1.2.3:5", 3306, "", "app"), true},
		{"allow cert none", &Rules{Policies: map[string]*Policy{"p": {Permissions: []*Permission{{Any: true}},
			Principals: []*Principal{{Authenticated: &Authenticated{}}}}}}, session("10.1.2.3:5", 3306, "", ""), false},
		{"not_id", &Rules{Policies: map[string]*Policy{"p": {Permissions: []*Permission{{Any: true}},
			Principals: []*Principal{{NotID: &Principal{SourceIP: &CIDR{AddressPrefix: "10.0.0.0", PrefixLen: u32(8)}}}}}}}, session("10.1.2.3:5", 3306, "", ""), false},
		{"and_ids", &Rules{Policies: map[string]*Policy{"p": {Permissions: []*Permission{{Any: true}},
			Principals: []*Principal{{AndIDs: &PrincipalSet{IDs: []*Principal{{Any: true}, {DirectRemoteIP: &CIDR{AddressPrefix: "10.1.2.3"}}}}}}}}}, session("10.1.2.3:5", 3306, "", ""), true},
		{"deny sql unknown at connect", &Rules{Action: "DENY", Policies: map[string]*Policy{"p": {Permissions: []*Permission{{SQL: &SQLPermission{Table: "shop.orders"}}},
			Principals: anyone}}}, session("10.1.2.3:5", 3306, "", ""), true},
		{"allow sql unknown at connect", &Rules{Policies: map[string]*Policy{"p": {Permissions: []*Permission{{SQL: &SQLPermission{Operations: []string{"select"}}}},
			Principals: anyone}}}, session("10.1.2.3:5", 3306, "", ""), true},
		{"allow not sql unknown", &Rules{Policies: map[string]*Policy{"p": {Permissions: []*Permission{{NotRule: &Permission{SQL: &SQLPermission{}}}},
			Principals: []*Principal{{SourceIP: &CIDR{AddressPrefix: "192.168.0.0", PrefixLen: u32(16)}}}}}}, session("10.1.2.3:5", 3306, "", ""), false},
		{"log allows", &Rules{Action: "LOG", Policies: map[string]*Policy{"p": {Permissions: []*Permission{{Any: true}}, Principals: anyone}}},
			session("10.1.2.3:5", 3306, "", ""), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &Config{StatPrefix: "t", Rules: tc.rules, OnSQLDeny: "error"}
			var errs config.Errors
			cfg.Validate("rbac", &errs)
			if errs.Err() != nil {
				t.Fatalf("config: %v", errs.Err())
			}
			f := New(cfg, &filters.Env{Stats: stats.New().Root()})
			_, err := f.Observe(tc.s, nil)
			if got := err == nil; got != tc.want {
				t.Fatalf("allowed = %v (%v), want %v", got, err, tc.want)
			}
			if f.stats.Allowed.Value()+f.stats.Denied.Value() != 1 {
				t.Fatalf("allowed %d + denied %d, want one check", f.stats.Allowed.Value(), f.stats.Denied.Value())
			}
		})
	}
}

// TestSQLChecks: statement decisions, the verdict shape and the shadow counts.
func TestSQLChecks(t *testing.T) {
	denyOrders := &Rules{Action: "DENY", Policies: map[string]*Policy{"orders": {
		Permissions: []*Permission{{SQL: &SQLPermission{Table: "shop.orders", Operations: []string{"delete", "drop"}}}},
		Principals:  []*Principal{{Any: true}}}}}
	allowSelects := &Rules{Policies: map[string]*Policy{"reads": {
		Permissions: []*Permission{{SQL: &SQLPermission{Operations: []string{"select"}}}},
		Principals:  []*Principal{{Any: true}}}}}
	for _, tc := range []struct {
		name     string
		rules    *Rules
		onDeny   string
		stmts    []sqlmeta.Statement
		want     filters.SQLVerdict
		wantGate bool
	}{
		{"delete denied", denyOrders, "error", []sqlmeta.Statement{stmt("delete", "shop.orders", sqlmeta.OpDelete)},
			filters.SQLVerdict{Deny: true, Policy: "orders"}, true},
		{"delete closes", denyOrders, "close", []sqlmeta.Statement{stmt("delete", "shop.orders", sqlmeta.OpDelete)},
			filters.SQLVerdict{Close: true, Policy: "orders"}, true},
		{"select allowed", denyOrders, "error", []sqlmeta.Statement{stmt("select", "shop.orders", sqlmeta.OpSelect)},
			filters.SQLVerdict{}, true},
		{"other db allowed", denyOrders, "error", []sqlmeta.Statement{stmt("delete", "archive.orders", sqlmeta.OpDelete)},
			filters.SQLVerdict{}, true},
		{"second of two denied", denyOrders, "error", []sqlmeta.Statement{stmt("select", "t", sqlmeta.OpSelect),
			stmt("drop", "shop.orders", sqlmeta.OpDrop)}, filters.SQLVerdict{Deny: true, Policy: "orders"}, true},
		{"allow-list refuses insert", allowSelects, "error", []sqlmeta.Statement{stmt("insert", "t", sqlmeta.OpInsert)},
			filters.SQLVerdict{Deny: true, Policy: "none"}, true},
		{"allow-list admits select", allowSelects, "error", []sqlmeta.Statement{stmt("select", "t", sqlmeta.OpSelect)},
			filters.SQLVerdict{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &Config{StatPrefix: "t", Rules: tc.rules, ShadowRules: tc.rules, OnSQLDeny: tc.onDeny}
			f := New(cfg, &filters.Env{Stats: stats.New().Root()})
			s := session("10.0.0.1:1", 3306, "", "")
			if _, err := f.Observe(s, nil); err != nil {
				t.Fatal(err)
			}
			if got := s.HasSQLGates(); got != tc.wantGate {
				t.Fatalf("gate registered = %v, want %v", got, tc.wantGate)
			}
			if got := s.CheckSQL(tc.stmts); got != tc.want {
				t.Fatalf("verdict %+v, want %+v", got, tc.want)
			}
			denied := uint64(0)
			if tc.want.Deny || tc.want.Close {
				denied = 1
				if got := s.AccessSnapshot().Fields["rbac_policy"]; got != tc.want.Policy && tc.want.Policy != "none" {
					t.Errorf("access rbac_policy = %v, want %q", got, tc.want.Policy)
				}
			}
			if f.stats.Denied.Value() != denied || f.stats.ShadowDenied.Value() != denied {
				t.Errorf("denied %d shadow_denied %d, want %d", f.stats.Denied.Value(), f.stats.ShadowDenied.Value(), denied)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cfg     *Config
		wantErr bool
	}{
		{"ok", &Config{StatPrefix: "x", OnSQLDeny: "error"}, false},
		{"no prefix", &Config{OnSQLDeny: "error"}, true},
		{"bad on_sql_deny", &Config{StatPrefix: "x", OnSQLDeny: "drop"}, true},
		{"bad action", &Config{StatPrefix: "x", OnSQLDeny: "error", Rules: &Rules{Action: "MAYBE"}}, true},
		{"two fields", &Config{StatPrefix: "x", OnSQLDeny: "error", Rules: &Rules{Policies: map[string]*Policy{"p": {
			Permissions: []*Permission{{Any: true, DestinationPort: 1}}, Principals: []*Principal{{Any: true}}}}}}, true},
		{"bad cidr", &Config{StatPrefix: "x", OnSQLDeny: "error", Rules: &Rules{Policies: map[string]*Policy{"p": {
			Permissions: []*Permission{{Any: true}}, Principals: []*Principal{{SourceIP: &CIDR{AddressPrefix: "10.0.0"}}}}}}}, true},
		{"bad regex", &Config{StatPrefix: "x", OnSQLDeny: "error", Rules: &Rules{Policies: map[string]*Policy{"p": {
			Permissions: []*Permission{{RequestedServerName: &StringMatcher{SafeRegex: &SafeRegex{Regex: "("}}}}, Principals: []*Principal{{Any: true}}}}}}, true},
		{"upper-case op", &Config{StatPrefix: "x", OnSQLDeny: "error", Rules: &Rules{Policies: map[string]*Policy{"p": {
			Permissions: []*Permission{{SQL: &SQLPermission{Operations: []string{"DELETE"}}}}, Principals: []*Principal{{Any: true}}}}}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var errs config.Errors
			tc.cfg.Validate("rbac", &errs)
			if (errs.Err() != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", errs.Err(), tc.wantErr)
			}
		})
	}
}

func BenchmarkCheckSQL(b *testing.B) {
	cfg := &Config{StatPrefix: "t", OnSQLDeny: "error", Rules: &Rules{Action: "DENY", Policies: map[string]*Policy{"orders": {
		Permissions: []*Permission{{SQL: &SQLPermission{Table: "shop.orders", Operations: []string{"delete", "drop"}}}},
		Principals:  []*Principal{{SourceIP: &CIDR{AddressPrefix: "10.0.0.0", PrefixLen: u32(8)}}}}}}}
	f := New(cfg, &filters.Env{Stats: stats.New().Root()})
	s := session("10.0.0.1:1", 3306, "", "")
	stmts := []sqlmeta.Statement{stmt("select", "shop.orders", sqlmeta.OpSelect)}
	b.ReportAllocs()
	for b.Loop() {
		f.CheckSQL(s, stmts)
	}
}
