package rbac

import (
	"testing"

	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/sqlmeta"
	sqlmysql "github.com/sluice-proxy/sluice/sqlmeta/mysql"
	sqlpg "github.com/sluice-proxy/sluice/sqlmeta/pg"
	"github.com/sluice-proxy/sluice/stats"
)

// FuzzSQLGate runs arbitrary SQL through the real parsers (Postgres and
// MySQL dialects, as postgres_proxy and mysql_proxy hand them to rbac) and a
// DENY policy on deletes and drops of orders: the verdict must deny exactly
// the statement lists the parser says delete or drop orders, and neither a
// parser nor the engine may panic.
func FuzzSQLGate(f *testing.F) {
	for _, sql := range []string{
		"DELETE FROM orders WHERE id = 1",
		"SELECT * FROM orders; DROP TABLE orders",
		"WITH d AS (DELETE FROM orders RETURNING *) SELECT * FROM d",
		"DELETE o FROM orders o JOIN items i ON o.id = i.oid",
		"SELECT 1",
		"UPDATE shop.orders SET qty = qty + 1",
	} {
		f.Add(sql, false)
		f.Add(sql, true)
	}
	rules := &Rules{Action: "DENY", Policies: map[string]*Policy{"orders": {
		Permissions: []*Permission{{SQL: &SQLPermission{Table: "orders", Operations: []string{"delete", "drop"}}}},
		Principals:  []*Principal{{Any: true}}}}}
	fl := New(&Config{StatPrefix: "t", Rules: rules, OnSQLDeny: "error"}, &filters.Env{Stats: stats.New().Root()})
	f.Fuzz(func(t *testing.T, sql string, mysql bool) {
		if len(sql) > 4096 {
			return
		}
		var stmts []sqlmeta.Statement
		var err error
		if mysql {
			stmts, err = sqlmysql.Parse(sql, "shop")
		} else {
			stmts, err = sqlpg.Parse(sql)
		}
		if err != nil {
			return
		}
		s := session("10.0.0.1:1", 5432, "", "")
		if _, err := fl.Observe(s, nil); err != nil {
			t.Fatal(err)
		}
		want := false
		for i := range stmts {
			want = want || stmts[i].Has("orders", sqlmeta.OpDelete) || stmts[i].Has("orders", sqlmeta.OpDrop)
		}
		if got := s.CheckSQL(stmts); got.Deny != want {
			t.Fatalf("%q: deny %v, want %v (statements %+v)", sql, got.Deny, want, stmts)
		}
	})
}
