package integration

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// TestRBACDenyStatementPostgres: the same rbac policy as the MySQL test, in
// front of Postgres. A DELETE on shop.orders is answered with an
// ErrorResponse (SQLSTATE 42501) naming the policy, in both the extended
// and the simple protocol, nothing is deleted, and the same session goes on.
func TestRBACDenyStatementPostgres(t *testing.T) {
	pg := testenv.Postgres(t)
	if out, err := pg.Psql("-c", "CREATE SCHEMA shop AUTHORIZATION "+testenv.PostgresUser+
		"; CREATE TABLE shop.orders (id int PRIMARY KEY, item text); INSERT INTO shop.orders VALUES (1, 'apple'), (2, 'pear');"+
		" ALTER TABLE shop.orders OWNER TO "+testenv.PostgresUser); err != nil {
		t.Fatalf("setup: %v\n%s", err, out)
	}
	s := sluicetest.Start(t, `
listeners:
  - name: pg
    address: 127.0.0.1:0
    filters:
`+rbacDenyOrdersDelete+`      - postgres_proxy: {stat_prefix: pg}
      - tcp_proxy: {stat_prefix: pg, cluster: pg_a}
clusters:
`+pgCluster("pg_a", pg.Addr()))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := pgConnect(t, s.Addr("pg"), testenv.PostgresUser, "postgres", "disable")
	defer c.Close(ctx)
	var pid1, pid2 int
	if err := c.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid1); err != nil {
		t.Fatal(err)
	}
	denied := func(what string, err error) {
		t.Helper()
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "42501" || !strings.Contains(pe.Message, "no-order-deletes") {
			t.Fatalf("%s: %v; want an ErrorResponse 42501 naming no-order-deletes", what, err)
		}
	}
	_, err := c.Exec(ctx, "DELETE FROM shop.orders WHERE id = $1", 1) // extended protocol
	denied("extended DELETE", err)
	_, err = c.Exec(ctx, "DELETE FROM shop.orders", pgx.QueryExecModeSimpleProtocol)
	denied("simple DELETE", err)
	_, err = c.Exec(ctx, "DROP TABLE shop.orders", pgx.QueryExecModeSimpleProtocol)
	denied("simple DROP", err)
	var n int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM shop.orders").Scan(&n); err != nil || n != 2 {
		t.Fatalf("count after denied statements = %d, %v; want 2 (nothing deleted)", n, err)
	}
	if err := c.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid2); err != nil || pid1 != pid2 {
		t.Fatalf("backend pid %d then %d (%v): the session must survive a deny", pid1, pid2, err)
	}
	// Other statements on the table are not covered by the policy.
	if _, err := c.Exec(ctx, "UPDATE shop.orders SET item = 'plum' WHERE id = 2"); err != nil {
		t.Fatal(err)
	}
	sluicetest.Eventually(t, 5*time.Second, func() bool { return s.Counter("guard.rbac.denied") == 3 },
		"guard.rbac.denied = %d, want 3", func() any { return s.Counter("guard.rbac.denied") })
	if got := s.Counter("guard.rbac.shadow_denied"); got == 0 {
		t.Errorf("guard.rbac.shadow_denied = 0; the shadow policy matches every loopback statement")
	}
}
