package integration

import (
	"context"
	"errors"
	"fmt"
	"github.com/sluice-proxy/sluice/internal/poll"
	"net"
	"os"
	"os/exec"
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
	poll.Eventually(t, 5*time.Second, func() bool { return s.Counter("guard.rbac.denied") == 3 },
		"guard.rbac.denied = %d, want 3", func() any { return s.Counter("guard.rbac.denied") })
	if got := s.Counter("guard.rbac.shadow_denied"); got == 0 {
		t.Errorf("guard.rbac.shadow_denied = 0; the shadow policy matches every loopback statement")
	}
}

// TestRBACDenyInTransactionPostgres: a statement denied inside BEGIN fails
// the transaction on the server itself, as a real error would: the COMMIT
// is answered ROLLBACK and the rows inserted before are gone, in the
// extended protocol, the simple one and a pgx batch (a pipeline where the
// denied Parse follows an allowed one). The policy's name carries quotes,
// dollars, a backslash and non-ASCII to check the replacement's quoting.
func TestRBACDenyInTransactionPostgres(t *testing.T) {
	pg := testenv.Postgres(t)
	if out, err := pg.Psql("-c", "CREATE SCHEMA shop AUTHORIZATION "+testenv.PostgresUser+
		"; CREATE TABLE shop.orders (id int PRIMARY KEY, item text); INSERT INTO shop.orders VALUES (1, 'apple'), (2, 'pear');"+
		" ALTER TABLE shop.orders OWNER TO "+testenv.PostgresUser); err != nil {
		t.Fatalf("setup: %v\n%s", err, out)
	}
	const policy = `deny's $sluice$ \ é`
	s := sluicetest.Start(t, `
listeners:
  - name: pg
    address: 127.0.0.1:0
    filters:
      - rbac:
          stat_prefix: guard
          rules:
            action: DENY
            policies:
              "deny's $sluice$ \\ é":
                permissions: [{sql: {table: shop.orders, operations: [delete]}}]
                principals: [{any: true}]
      - postgres_proxy: {stat_prefix: pg}
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
	wantMsg := fmt.Sprintf("permission denied by sluice policy %q", policy)
	denied := func(what string, err error) {
		t.Helper()
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "42501" || pe.Message != wantMsg {
			t.Fatalf("%s: %v; want an ErrorResponse 42501 %q", what, err, wantMsg)
		}
	}

	// Extended protocol inside a pgx transaction.
	tx, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO shop.orders VALUES ($1, $2)", 3, "fig"); err != nil {
		t.Fatal(err)
	}
	_, err = tx.Exec(ctx, "DELETE FROM shop.orders WHERE id = $1", 1)
	denied("extended DELETE in a transaction", err)
	if err := tx.Commit(ctx); !errors.Is(err, pgx.ErrTxCommitRollback) {
		t.Fatalf("COMMIT after a denied statement: %v; want the server's ROLLBACK (pgx.ErrTxCommitRollback)", err)
	}

	// Simple protocol: the transaction is aborted for later statements too.
	simple := pgx.QueryExecModeSimpleProtocol
	for _, step := range []struct {
		sql     string
		wantErr string // SQLSTATE
		tag     string
	}{
		{sql: "BEGIN", tag: "BEGIN"},
		{sql: "INSERT INTO shop.orders VALUES (4, 'kiwi')", tag: "INSERT 0 1"},
		{sql: "DELETE FROM shop.orders WHERE id = 2", wantErr: "42501"},
		{sql: "SELECT 1", wantErr: "25P02"}, // current transaction is aborted
		{sql: "COMMIT", tag: "ROLLBACK"},
	} {
		tag, err := c.Exec(ctx, step.sql, simple)
		if step.wantErr == "42501" {
			denied("simple DELETE in a transaction", err)
			continue
		}
		var pe *pgconn.PgError
		if step.wantErr != "" && (!errors.As(err, &pe) || pe.Code != step.wantErr) {
			t.Fatalf("%s: %v; want SQLSTATE %s", step.sql, err, step.wantErr)
		}
		if step.wantErr == "" && (err != nil || tag.String() != step.tag) {
			t.Fatalf("%s: %q, %v; want %q", step.sql, tag, err, step.tag)
		}
	}

	// A batch: pgx prepares both statements in one pipeline, the denied
	// Parse second; nothing of the batch runs.
	b := &pgx.Batch{}
	b.Queue("INSERT INTO shop.orders VALUES (5, 'lime')")
	b.Queue("DELETE FROM shop.orders WHERE id = 1")
	err = c.SendBatch(ctx, b).Close()
	denied("DELETE in a batch", err)

	var n, three int
	if err := c.QueryRow(ctx, "SELECT count(*), count(*) FILTER (WHERE id >= 3) FROM shop.orders").Scan(&n, &three); err != nil || n != 2 || three != 0 {
		t.Fatalf("rows %d, inserted rows left %d (%v); want 2 and 0: the denied transactions must roll back", n, three, err)
	}
	if err := c.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid2); err != nil || pid1 != pid2 {
		t.Fatalf("backend pid %d then %d (%v): the session must survive", pid1, pid2, err)
	}
	c.Close(ctx)

	// psql, one statement per Query: it prints the server's error and the
	// ROLLBACK that answers COMMIT.
	host, port, _ := net.SplitHostPort(s.Addr("pg"))
	cmd := exec.Command("psql", "-X", "-h", host, "-p", port, "-U", "postgres", "-d", "postgres")
	cmd.Env = append(os.Environ(), "PGSSLMODE=disable", "PGCONNECT_TIMEOUT=5")
	cmd.Stdin = strings.NewReader("BEGIN;\nINSERT INTO shop.orders VALUES (6, 'yuzu');\nDELETE FROM shop.orders;\nCOMMIT;\n")
	out, _ := cmd.CombinedOutput()
	if !strings.Contains(string(out), "ERROR:  "+wantMsg) || !strings.Contains(string(out), "ROLLBACK") {
		t.Fatalf("psql output lacks the denial or the ROLLBACK:\n%s", out)
	}
	if got, err := pg.Psql("-c", "SELECT count(*) FROM shop.orders"); err != nil || strings.TrimSpace(got) != "2" {
		t.Fatalf("rows after psql's transaction: %q, %v; want 2", got, err)
	}
	// Implicit: two pid SELECTs and the count; explicit: three BEGIN, all
	// ended by the server's ROLLBACK.
	pgWant(t, s, map[string]uint64{
		"transactions": 6, "transactions_commit": 3, "transactions_rollback": 3,
		"statements_denied": 4, "statements_insert": 3, "statements_delete": 0,
		// 4 denials and the aborted transaction's SELECT, all from the server
		"errors_error": 5, "protocol_errors": 0,
	})
	pgMessagesConsistent(t, s)
}
