package rbac

import (
	"testing"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/sqlmeta"
	"github.com/sluice-proxy/sluice/stats"
)

// kv is a request's metadata for the tests.
type kv map[string]string

func (m kv) Get(k string) (string, bool) { v, ok := m[k]; return v, ok }

const zkNS = "envoy.filters.network.zookeeper_proxy"

func zkReq(op, path string) *filters.Request {
	return &filters.Request{Namespace: zkNS, Op: op, Path: path, Metadata: kv{"opname": op, "path": path}}
}

// TestZooKeeperChecks: zookeeper and metadata permissions per request, and
// neither refusing at connect time nor matching SQL statements.
func TestZooKeeperChecks(t *testing.T) {
	anyone := []*Principal{{Any: true}}
	deny := func(p *Permission) *Rules {
		return &Rules{Action: "DENY", Policies: map[string]*Policy{"p": {Permissions: []*Permission{p}, Principals: anyone}}}
	}
	allow := func(p *Permission) *Rules {
		return &Rules{Policies: map[string]*Policy{"p": {Permissions: []*Permission{p}, Principals: anyone}}}
	}
	exact := func(s string) *StringMatcher { return &StringMatcher{Exact: &s} }
	yes := true
	for _, tc := range []struct {
		name  string
		rules *Rules
		req   *filters.Request
		deny  bool
	}{
		{"subtree itself", deny(&Permission{ZooKeeper: &ZooKeeperPermission{PathPrefix: "/secret"}}), zkReq("getdata", "/secret"), true},
		{"subtree child", deny(&Permission{ZooKeeper: &ZooKeeperPermission{PathPrefix: "/secret"}}), zkReq("exists", "/secret/a/b"), true},
		{"sibling with the prefix", deny(&Permission{ZooKeeper: &ZooKeeperPermission{PathPrefix: "/secret"}}), zkReq("getdata", "/secrets"), false},
		{"trailing slash is a string prefix", deny(&Permission{ZooKeeper: &ZooKeeperPermission{PathPrefix: "/app/"}}), zkReq("getdata", "/app/x"), true},
		{"root", deny(&Permission{ZooKeeper: &ZooKeeperPermission{PathPrefix: "/"}}), zkReq("getdata", "/x"), true},
		{"op listed", deny(&Permission{ZooKeeper: &ZooKeeperPermission{PathPrefix: "/ro", Operations: []string{"create", "delete"}}}), zkReq("delete", "/ro/x"), true},
		{"op not listed", deny(&Permission{ZooKeeper: &ZooKeeperPermission{PathPrefix: "/ro", Operations: []string{"create", "delete"}}}), zkReq("getdata", "/ro/x"), false},
		{"path matcher", deny(&Permission{ZooKeeper: &ZooKeeperPermission{Path: &StringMatcher{Suffix: "/lock"}}}), zkReq("create", "/a/lock"), true},
		{"allow-list admits", allow(&Permission{ZooKeeper: &ZooKeeperPermission{PathPrefix: "/app"}}), zkReq("setdata", "/app/x"), false},
		{"allow-list refuses", allow(&Permission{ZooKeeper: &ZooKeeperPermission{PathPrefix: "/app"}}), zkReq("setdata", "/other"), true},
		{"metadata exact", deny(&Permission{Metadata: &MetadataMatcher{Filter: zkNS, Path: []MetadataPath{{Key: "opname"}},
			Value: &ValueMatcher{StringMatch: exact("create")}}}), zkReq("create", "/x"), true},
		{"metadata other op", deny(&Permission{Metadata: &MetadataMatcher{Filter: zkNS, Path: []MetadataPath{{Key: "opname"}},
			Value: &ValueMatcher{StringMatch: exact("create")}}}), zkReq("getdata", "/x"), false},
		{"metadata inverted", deny(&Permission{Metadata: &MetadataMatcher{Filter: zkNS, Path: []MetadataPath{{Key: "opname"}},
			Value: &ValueMatcher{StringMatch: exact("getdata")}, Invert: true}}), zkReq("create", "/x"), true},
		{"metadata other namespace", deny(&Permission{Metadata: &MetadataMatcher{Filter: "envoy.filters.network.mysql_proxy", Path: []MetadataPath{{Key: "opname"}},
			Value: &ValueMatcher{StringMatch: exact("create")}}}), zkReq("create", "/x"), false},
		{"metadata present", deny(&Permission{Metadata: &MetadataMatcher{Filter: zkNS, Path: []MetadataPath{{Key: "path"}},
			Value: &ValueMatcher{PresentMatch: &yes}}}), zkReq("sync", "/x"), true},
		{"sql permission is no", allow(&Permission{OrRules: &PermissionSet{Rules: []*Permission{{SQL: &SQLPermission{}},
			{ZooKeeper: &ZooKeeperPermission{PathPrefix: "/app"}}}}}), zkReq("getdata", "/nope"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &Config{StatPrefix: "t", Rules: tc.rules, OnSQLDeny: "error"}
			var errs config.Errors
			cfg.Validate("rbac", &errs)
			if err := errs.Err(); err != nil {
				t.Fatal(err)
			}
			f := New(cfg, &filters.Env{Stats: stats.New().Root()})
			s := session("10.0.0.1:1", 2181, "", "")
			if _, err := f.Observe(s, nil); err != nil {
				t.Fatalf("refused at connect: %v", err)
			}
			if !s.HasRequestGates() {
				t.Fatal("no request gate registered")
			}
			v := s.CheckRequest(tc.req)
			if v.Deny != tc.deny || v.Close {
				t.Fatalf("verdict %+v, want deny %v", v, tc.deny)
			}
		})
	}
	// A zookeeper permission never matches a SQL statement.
	f := New(&Config{StatPrefix: "t", OnSQLDeny: "error", Rules: deny(&Permission{ZooKeeper: &ZooKeeperPermission{}})}, &filters.Env{Stats: stats.New().Root()})
	if v := f.CheckSQL(session("10.0.0.1:1", 3306, "", ""), []sqlmeta.Statement{stmt("select", "t", sqlmeta.OpSelect)}); v.Deny {
		t.Fatal("a zookeeper permission refused a SQL statement")
	}
}

func TestZooKeeperValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		perm *Permission
	}{
		{"relative prefix", &Permission{ZooKeeper: &ZooKeeperPermission{PathPrefix: "app"}}},
		{"unknown op", &Permission{ZooKeeper: &ZooKeeperPermission{Operations: []string{"get"}}}},
		{"metadata without filter", &Permission{Metadata: &MetadataMatcher{Path: []MetadataPath{{Key: "opname"}}, Value: &ValueMatcher{PresentMatch: new(bool)}}}},
		{"metadata deep path", &Permission{Metadata: &MetadataMatcher{Filter: zkNS, Path: []MetadataPath{{Key: "a"}, {Key: "b"}}, Value: &ValueMatcher{PresentMatch: new(bool)}}}},
		{"metadata no value", &Permission{Metadata: &MetadataMatcher{Filter: zkNS, Path: []MetadataPath{{Key: "a"}}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &Config{StatPrefix: "t", OnSQLDeny: "error", Rules: &Rules{Policies: map[string]*Policy{"p": {
				Permissions: []*Permission{tc.perm}, Principals: []*Principal{{Any: true}}}}}}
			var errs config.Errors
			cfg.Validate("rbac", &errs)
			if errs.Err() == nil {
				t.Fatal("accepted")
			}
		})
	}
}
