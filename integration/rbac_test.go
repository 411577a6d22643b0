package integration

import (
	"context"
	"errors"
	"github.com/sluice-proxy/sluice/internal/poll"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// rbacDenyOrdersDelete denies deletes and drops on shop.orders and, in
// shadow, everything from 127.0.0.0/8 (counted only).
const rbacDenyOrdersDelete = `      - rbac:
          stat_prefix: guard
          rules:
            action: DENY
            policies:
              no-order-deletes:
                permissions: [{sql: {table: shop.orders, operations: [delete, drop]}}]
                principals: [{any: true}]
          shadow_rules:
            action: DENY
            policies:
              loopback:
                permissions: [{any: true}]
                principals: [{source_ip: {address_prefix: 127.0.0.0, prefix_len: 8}}]
`

// TestRBACDenyStatementMySQL: a DELETE on shop.orders is answered with ERR
// 1142 naming the policy and is not executed; the same connection's next
// statements work.
func TestRBACDenyStatementMySQL(t *testing.T) {
	srv := testenv.MariaDB(t)
	if _, err := srv.CLI("-e", "CREATE DATABASE shop; CREATE TABLE shop.orders (id INT PRIMARY KEY, item TEXT); "+
		"INSERT INTO shop.orders VALUES (1, 'apple'), (2, 'pear')"); err != nil {
		t.Fatal(err)
	}
	s := sluicetest.Start(t, mysqlYAML(srv.Addr(), "", rbacDenyOrdersDelete))
	ctx := context.Background()
	db := mysqlDB(t, s.Addr("mysql"), "root", "", "shop", nil)
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var connID1, connID2 int64
	if err := conn.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&connID1); err != nil {
		t.Fatal(err)
	}
	_, err = conn.ExecContext(ctx, "DELETE FROM shop.orders WHERE id = 1")
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != 1142 || string(me.SQLState[:]) != "42000" ||
		!strings.Contains(me.Message, "no-order-deletes") {
		t.Fatalf("DELETE: %v; want ERR 1142 (42000) naming no-order-deletes", err)
	}
	// Unqualified, through the session's database: still shop.orders.
	if _, err := conn.ExecContext(ctx, "DELETE FROM orders"); !errors.As(err, &me) || me.Number != 1142 {
		t.Fatalf("DELETE FROM orders: %v; want ERR 1142", err)
	}
	// A prepared DROP is refused at prepare time.
	if _, err := conn.PrepareContext(ctx, "DROP TABLE orders"); !errors.As(err, &me) || me.Number != 1142 {
		t.Fatalf("prepare DROP: %v; want ERR 1142", err)
	}
	var n int
	if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM shop.orders").Scan(&n); err != nil || n != 2 {
		t.Fatalf("count after denied deletes = %d, %v; want 2 (nothing deleted)", n, err)
	}
	if err := conn.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&connID2); err != nil || connID1 != connID2 {
		t.Fatalf("connection id %d then %d (%v): the session must survive a deny", connID1, connID2, err)
	}
	// Other tables are not covered by the policy.
	if _, err := conn.ExecContext(ctx, "CREATE TABLE shop.tmp (id INT)"); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "DELETE FROM shop.tmp"); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	db.Close()
	poll.Eventually(t, 5*time.Second, func() bool { return s.Gauge("cluster.mariadb.upstream_cx_active") == 0 },
		"connection not done")
	// Checks: the connection, then 8 statements (3 denied).
	wantCounters(t, s, map[string]uint64{
		"guard.rbac.allowed":           6,
		"guard.rbac.denied":            3,
		"guard.rbac.shadow_denied":     9,
		"guard.rbac.shadow_allowed":    0,
		"mysql.db.statements_denied":   3,
		"mysql.db.statements_delete":   3,
		"mysql.db.statements_select":   3,
		"mysql.db.statements_other":    2,
		"mysql.db.queries_parsed":      8,
		"mysql.db.protocol_errors":     0,
		"mysql.db.queries_parse_error": 0,
	})
}

// TestRBACConnectionDenied: an ALLOW policy that only admits 10.0.0.0/8
// closes a loopback connection before any byte reaches the server.
func TestRBACConnectionDenied(t *testing.T) {
	srv := testenv.MariaDB(t)
	s := sluicetest.Start(t, mysqlYAML(srv.Addr(), "", `      - rbac:
          stat_prefix: guard.
          rules:
            policies:
              office:
                permissions: [{any: true}]
                principals: [{source_ip: {address_prefix: 10.0.0.0, prefix_len: 8}}]
`))
	db := mysqlDB(t, s.Addr("mysql"), "root", "", "", nil)
	if err := db.Ping(); err == nil {
		t.Fatal("ping through a denying rbac succeeded")
	}
	c, err := net.Dial("tcp", s.Addr("mysql"))
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := c.Read(make([]byte, 64)); n != 0 || err == nil {
		t.Fatalf("read %d bytes, %v; want the connection closed", n, err)
	}
	c.Close()
	s.WaitCounter("guard.rbac.denied", 2, 5*time.Second)
	wantCounters(t, s, map[string]uint64{"guard.rbac.allowed": 0, "cluster.mariadb.upstream_cx_total": 0,
		"mysql.db.sessions": 0})
}
