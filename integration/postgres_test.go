package integration

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"github.com/sluice-proxy/sluice/internal/poll"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// pgYAML is one listener "pg" with postgres_proxy (extra config in extra)
// and tcp_proxy to cluster pg_a; more clusters come from clusters.
func pgYAML(extra, clusters string) string {
	return fmt.Sprintf(`
listeners:
  - name: pg
    address: 127.0.0.1:0
    filters:
      - postgres_proxy: {stat_prefix: pg%s}
      - tcp_proxy: {stat_prefix: pg, cluster: pg_a}
clusters:
%s`, extra, clusters)
}

func pgCluster(name, addr string) string {
	return fmt.Sprintf("  - name: %s\n    connect_timeout: 2s\n    endpoints: [%q]\n", name, addr)
}

// pgConnect opens a pgx connection through sluice.
func pgConnect(t testing.TB, addr, user, db, sslmode string) *pgx.Conn {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	dsn := fmt.Sprintf("host=%s port=%s user=%s password=%s dbname=%s sslmode=%s connect_timeout=5",
		host, port, user, testenv.PostgresPassword, db, sslmode)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect %s: %v", dsn, err)
	}
	return c
}

// pgWant compares postgres.pg.* counters.
func pgWant(t *testing.T, s *sluicetest.Sluice, want map[string]uint64) {
	t.Helper()
	for name, v := range want {
		full := "postgres.pg." + name
		s.WaitCounter(full, v, 5*time.Second)
		if got := s.Counter(full); got != v {
			t.Errorf("%s = %d, want %d", full, got, v)
		}
	}
}

// pgMessagesConsistent checks Envoy's arithmetic of the messages counters.
func pgMessagesConsistent(t *testing.T, s *sluicetest.Sluice) {
	t.Helper()
	m, f, b, u := s.Counter("postgres.pg.messages"), s.Counter("postgres.pg.messages_frontend"),
		s.Counter("postgres.pg.messages_backend"), s.Counter("postgres.pg.messages_unknown")
	if m != f+b+u || f == 0 || b == 0 {
		t.Errorf("messages %d, frontend %d, backend %d, unknown %d: want messages = the sum, both > 0", m, f, b, u)
	}
}

func TestPostgresProxyWorkload(t *testing.T) {
	pgA := testenv.Postgres(t)
	s := sluicetest.Start(t, pgYAML("", pgCluster("pg_a", pgA.Addr())))
	ctx := context.Background()
	if out, err := pgA.Psql("-c", "CREATE DATABASE wl OWNER "+testenv.PostgresUser); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	// The SCRAM user, so that authentication goes through the decoder too.
	c := pgConnect(t, s.Addr("pg"), testenv.PostgresUser, "wl", "disable")
	simple := pgx.QueryExecModeSimpleProtocol
	steps := []struct {
		sql     string
		args    []any
		wantErr bool
	}{
		{sql: "CREATE TABLE wl (id int PRIMARY KEY, v text)", args: []any{simple}},
		{sql: "INSERT INTO wl VALUES (1, 'a')", args: []any{simple}},
		{sql: "INSERT INTO wl VALUES ($1, $2)", args: []any{2, "b"}}, // extended protocol
		{sql: "BEGIN", args: []any{simple}},
		{sql: "UPDATE wl SET v = 'c' WHERE id = 1", args: []any{simple}},
		{sql: "DELETE FROM wl WHERE id = $1", args: []any{2}},
		{sql: "COMMIT", args: []any{simple}},
		{sql: "BEGIN", args: []any{simple}},
		{sql: "INSERT INTO wl VALUES (3, 'd')", args: []any{simple}},
		{sql: "ROLLBACK", args: []any{simple}},
		{sql: "INSERT INTO wl VALUES (1, 'dup')", args: []any{simple}, wantErr: true},
		{sql: "DO $$BEGIN RAISE NOTICE 'hello'; END$$", args: []any{simple}},
		{sql: "SELECT * FROM no_such_table", args: []any{simple}, wantErr: true},
	}
	for _, st := range steps {
		_, err := c.Exec(ctx, st.sql, st.args...)
		if (err != nil) != st.wantErr {
			t.Fatalf("%s: err %v, wantErr %v", st.sql, err, st.wantErr)
		}
	}
	if _, err := c.Prepare(ctx, "sel", "SELECT v FROM wl WHERE id = $1"); err != nil {
		t.Fatal(err)
	}
	var v string
	if err := c.QueryRow(ctx, "sel", 1).Scan(&v); err != nil || v != "c" {
		t.Fatalf("prepared select: %q, %v", v, err)
	}
	c.Close(ctx)

	pgWant(t, s, map[string]uint64{
		"sessions": 1, "sessions_unencrypted": 1, "sessions_encrypted": 0,
		// CREATE, 3 INSERT, UPDATE, DELETE, SELECT, 2 BEGIN, COMMIT, ROLLBACK, DO
		"statements": 12, "statements_insert": 3, "statements_update": 1, "statements_delete": 1,
		"statements_select": 1, "statements_other": 6,
		// implicit: CREATE, INSERT, INSERT, DO, SELECT; explicit: 2 BEGIN
		"transactions": 7, "transactions_commit": 6, "transactions_rollback": 1,
		"errors": 2, "errors_error": 2, "errors_fatal": 0,
		"notices": 1, "notices_notice": 1,
		// every Query and Parse parses (pgx's Parse of the prepared
		// statement and of the two extended statements included)
		"statements_parse_error": 0, "protocol_errors": 0,
	})
	poll.Until(5*time.Second, func() bool { return s.Counter("postgres.pg.statements_parsed") >= 14 })
	if s.Counter("postgres.pg.statements_parsed") < 14 {
		t.Errorf("statements_parsed = %d, want at least 14", s.Counter("postgres.pg.statements_parsed"))
	}
	pgMessagesConsistent(t, s)
	if got := s.Counter("tcp.pg.downstream_cx_total"); got != 1 {
		t.Errorf("tcp.pg.downstream_cx_total = %d, want 1", got)
	}
}

// TestPostgresEnvoySandbox runs Envoy's postgres sandbox steps with psql.
func TestPostgresEnvoySandbox(t *testing.T) {
	pgA := testenv.Postgres(t)
	s := sluicetest.Start(t, pgYAML("", pgCluster("pg_a", pgA.Addr())))
	host, port, _ := net.SplitHostPort(s.Addr("pg"))
	psql := func(db string, sql string) (string, error) {
		cmd := exec.Command("psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-h", host, "-p", port, "-U", "postgres", "-d", db, "-c", sql)
		cmd.Env = append(os.Environ(), "PGSSLMODE=disable", "PGCONNECT_TIMEOUT=5")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	for _, step := range []struct{ db, sql string }{
		{"postgres", "CREATE DATABASE testdb"},
		{"testdb", "CREATE TABLE tbl (f SERIAL PRIMARY KEY)"},
		{"testdb", "INSERT INTO tbl VALUES (DEFAULT)"},
		{"testdb", "SELECT * FROM tbl"},
		{"testdb", "UPDATE tbl SET f = 2 WHERE f = 1"},
	} {
		if out, err := psql(step.db, step.sql); err != nil {
			t.Fatalf("%s: %v\n%s", step.sql, err, out)
		}
	}
	// The sequence hands out 2, which the UPDATE already took.
	out, err := psql("testdb", "INSERT INTO tbl VALUES (DEFAULT)")
	if err == nil || !strings.Contains(out, "duplicate key") {
		t.Fatalf("want a duplicate key error, got %v: %s", err, out)
	}
	if out, err := psql("testdb", "DELETE FROM tbl"); err != nil {
		t.Fatalf("DELETE: %v\n%s", err, out)
	}
	pgWant(t, s, map[string]uint64{
		"sessions": 7, "sessions_unencrypted": 7,
		"statements": 6, "statements_insert": 1, "statements_select": 1, "statements_update": 1,
		"statements_delete": 1, "statements_other": 2, "errors": 1, "errors_error": 1,
		"transactions": 6, "transactions_commit": 6,
	})
	if got := s.Counter("tcp.pg.downstream_cx_total"); got != 7 {
		t.Errorf("tcp.pg.downstream_cx_total = %d, want 7", got)
	}
	if code, body := s.AdminGet("/stats"); code != 200 || !strings.Contains(body, "postgres.pg.statements_insert: 1") {
		t.Errorf("admin /stats (%d) lacks postgres.pg.statements_insert: 1:\n%s", code, body)
	}
}

// TestPostgresCopyLarge moves a large table both ways with COPY.
func TestPostgresCopyLarge(t *testing.T) {
	pgA := testenv.Postgres(t)
	s := sluicetest.Start(t, pgYAML("", pgCluster("pg_a", pgA.Addr())))
	ctx := context.Background()
	c := pgConnect(t, s.Addr("pg"), "postgres", "postgres", "disable")
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "CREATE TABLE big (id int, pad text)"); err != nil {
		t.Fatal(err)
	}
	const rows = 200_000
	pad := strings.Repeat("x", 200)
	n, err := c.CopyFrom(ctx, pgx.Identifier{"big"}, []string{"id", "pad"},
		pgx.CopyFromSlice(rows, func(i int) ([]any, error) { return []any{i, pad}, nil }))
	if err != nil || n != rows {
		t.Fatalf("COPY FROM: %d rows, %v", n, err)
	}
	tag, err := c.PgConn().CopyTo(ctx, io.Discard, "COPY big TO STDOUT")
	if err != nil || tag.RowsAffected() != rows {
		t.Fatalf("COPY TO: %v, %v", tag, err)
	}
	// CREATE, COPY, COPY: statements_other, each an implicit transaction.
	pgWant(t, s, map[string]uint64{"statements_other": 3, "transactions_commit": 3, "protocol_errors": 0})
	if rx := s.Counter("tcp.pg.downstream_cx_rx_bytes_total"); rx < rows*200 {
		t.Errorf("rx bytes %d, want at least %d", rx, rows*200)
	}
}

// pgCert writes a self-signed certificate for names into the test's dir.
func pgCert(t *testing.T, names ...string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: names[0]}, DNSNames: names,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	return certFile, keyFile
}

// TestPostgresSSLAndRouting covers terminate_ssl (psql and pgx with
// sslmode=require), routing two databases to two servers, upstream_ssl and
// an encrypted session passed through.
func TestPostgresSSLAndRouting(t *testing.T) {
	pgA := testenv.Postgres(t)
	pgB := testenv.Postgres(t, testenv.PostgresSSL())
	for _, db := range []struct {
		s    *testenv.PostgresServer
		name string
	}{{pgA, "dba"}, {pgB, "dbb"}} {
		if out, err := db.s.Psql("-c", "CREATE DATABASE "+db.name+" OWNER "+testenv.PostgresUser); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
	}
	clusters := pgCluster("pg_a", pgA.Addr()) + pgCluster("pg_b", pgB.Addr())
	serverPort := func(t *testing.T, c *pgx.Conn) int {
		var port int
		if err := c.QueryRow(context.Background(), "SELECT inet_server_port()").Scan(&port); err != nil {
			t.Fatal(err)
		}
		return port
	}

	t.Run("terminate_ssl and routes", func(t *testing.T) {
		cert, key := pgCert(t, "pg.sluice.test")
		s := sluicetest.Start(t, pgYAML(fmt.Sprintf(`, terminate_ssl: true, tls: {certificate_file: %s, private_key_file: %s},
        routes: [{database: {exact: dbb}, cluster: pg_b}, {user: {prefix: nobody}, cluster: pg_b}]`, cert, key), clusters))
		host, port, _ := net.SplitHostPort(s.Addr("pg"))
		for _, tc := range []struct{ db, want string }{{"dba", fmt.Sprint(pgA.Port())}, {"dbb", fmt.Sprint(pgB.Port())}} {
			conn := fmt.Sprintf("host=%s port=%s user=%s dbname=%s sslmode=require connect_timeout=5", host, port, testenv.PostgresUser, tc.db)
			cmd := exec.Command("psql", "-X", "-At", conn, "-c", "SELECT inet_server_port(), ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
			cmd.Env = append(os.Environ(), "PGPASSWORD="+testenv.PostgresPassword)
			out, err := cmd.CombinedOutput()
			// The server leg is clear text (no upstream_ssl): ssl is f.
			if err != nil || strings.TrimSpace(string(out)) != tc.want+"|f" {
				t.Fatalf("psql sslmode=require to %s: %v: %q, want %s|f", tc.db, err, out, tc.want)
			}
		}
		c := pgConnect(t, s.Addr("pg"), testenv.PostgresUser, "dbb", "require")
		if got := serverPort(t, c); got != pgB.Port() {
			t.Errorf("pgx to dbb reached port %d, want %d", got, pgB.Port())
		}
		if !c.PgConn().Conn().(interface{ ConnectionState() tls.ConnectionState }).ConnectionState().HandshakeComplete {
			t.Error("pgx connection is not TLS")
		}
		c.Close(context.Background())
		pgWant(t, s, map[string]uint64{"sessions_terminated_ssl": 3, "sessions_unencrypted": 3, "sessions": 3,
			"sessions_encrypted": 0, "errors": 0})
		if got := s.Counter("cluster.pg_b.upstream_cx_total"); got != 2 {
			t.Errorf("cluster.pg_b.upstream_cx_total = %d, want 2", got)
		}
	})

	t.Run("upstream_ssl require", func(t *testing.T) {
		s := sluicetest.Start(t, pgYAML(`, upstream_ssl: require, routes: [{database: {exact: dbb}, cluster: pg_b}]`, clusters))
		c := pgConnect(t, s.Addr("pg"), testenv.PostgresUser, "dbb", "disable")
		var ssl bool
		if err := c.QueryRow(context.Background(), "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").Scan(&ssl); err != nil || !ssl {
			t.Fatalf("server sees ssl=%v, %v; want true", ssl, err)
		}
		c.Close(context.Background())
		// pg_a has no SSL: the session must fail rather than go in clear.
		host, port, _ := net.SplitHostPort(s.Addr("pg"))
		_, err := pgx.Connect(context.Background(), fmt.Sprintf("host=%s port=%s user=postgres dbname=dba sslmode=disable connect_timeout=5", host, port))
		if err == nil {
			t.Fatal("connect through upstream_ssl: require to a server without SSL succeeded")
		}
		pgWant(t, s, map[string]uint64{"sessions_upstream_ssl_success": 1, "sessions_upstream_ssl_failed": 1, "sessions": 1})
	})

	t.Run("upstream_ssl prefer", func(t *testing.T) {
		s := sluicetest.Start(t, pgYAML(`, upstream_ssl: prefer, routes: [{database: {exact: dbb}, cluster: pg_b}]`, clusters))
		for _, tc := range []struct {
			db      string
			wantSSL bool
		}{{"dbb", true}, {"dba", false}} { // pg_b has SSL, pg_a answers N
			c := pgConnect(t, s.Addr("pg"), testenv.PostgresUser, tc.db, "disable")
			var ssl bool
			if err := c.QueryRow(context.Background(), "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").Scan(&ssl); err != nil || ssl != tc.wantSSL {
				t.Fatalf("%s: server sees ssl=%v, %v; want %v", tc.db, ssl, err, tc.wantSSL)
			}
			c.Close(context.Background())
		}
		pgWant(t, s, map[string]uint64{"sessions_upstream_ssl_success": 1, "sessions_upstream_ssl_refused": 1,
			"sessions_upstream_ssl_failed": 0, "sessions": 2, "sessions_unencrypted": 2})
	})

	t.Run("encrypted passthrough", func(t *testing.T) {
		s := sluicetest.Start(t, pgYAML("", pgCluster("pg_a", pgB.Addr())))
		c := pgConnect(t, s.Addr("pg"), testenv.PostgresUser, "dbb", "require")
		serverPort(t, c)
		c.Close(context.Background())
		pgWant(t, s, map[string]uint64{"sessions_encrypted": 1, "sessions": 1, "sessions_unencrypted": 0,
			"statements": 0, "protocol_errors": 0})
	})
}

// TestPostgresCancelRouted: pgx cancels a running query with a
// CancelRequest on a new connection; sluice sends it to the cluster of the
// session whose BackendKeyData it names (pg_b, by the route on the
// database), not to tcp_proxy's own cluster (pg_a), and the query ends with
// 57014. A misrouted cancel is ignored by pg_a, and the query would run its
// 30 seconds.
func TestPostgresCancelRouted(t *testing.T) {
	pgA, pgB := testenv.Postgres(t), testenv.Postgres(t)
	if out, err := pgB.Psql("-c", "CREATE DATABASE dbb OWNER "+testenv.PostgresUser); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	s := sluicetest.Start(t, pgYAML(`, routes: [{database: {exact: dbb}, cluster: pg_b}]`,
		pgCluster("pg_a", pgA.Addr())+pgCluster("pg_b", pgB.Addr())))
	host, port, _ := net.SplitHostPort(s.Addr("pg"))
	cfg, err := pgx.ParseConfig(fmt.Sprintf("host=%s port=%s user=%s password=%s dbname=dbb sslmode=disable connect_timeout=5",
		host, port, testenv.PostgresUser, testenv.PostgresPassword))
	if err != nil {
		t.Fatal(err)
	}
	// Cancel with a CancelRequest at once; close the connection only if the
	// server has not answered 20s later.
	cfg.BuildContextWatcherHandler = func(pc *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: pc, DeadlineDelay: 20 * time.Second}
	}
	c, err := pgx.ConnectConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		_, err := c.Exec(ctx, "SELECT pg_sleep(30)")
		done <- err
	}()
	// Cancel once pg_b runs the query.
	admin, err := pgx.Connect(context.Background(), pgB.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	poll.Eventually(t, 10*time.Second, func() bool {
		var n int
		err := admin.QueryRow(context.Background(),
			"SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query = 'SELECT pg_sleep(30)'").Scan(&n)
		return err == nil && n == 1
	}, "the query never became active on pg_b")
	cancel()
	cancelled := time.Now()
	select {
	case err := <-done:
		t.Logf("query ended %v after the cancel", time.Since(cancelled))
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "57014" {
			t.Fatalf("query ended with %v after %v; want SQLSTATE 57014 (canceled by the server)", err, time.Since(start))
		}
	case <-time.After(25 * time.Second):
		t.Fatal("the query was not cancelled")
	}
	var one int
	if err := c.QueryRow(context.Background(), "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("the session after the cancel: %d, %v", one, err)
	}
	// The cancel connection went to pg_b too: two connections there, none to pg_a.
	s.WaitCounter("cluster.pg_b.upstream_cx_total", 2, 5*time.Second)
	if a, b := s.Counter("cluster.pg_a.upstream_cx_total"), s.Counter("cluster.pg_b.upstream_cx_total"); a != 0 || b != 2 {
		t.Errorf("upstream connections: pg_a %d, pg_b %d; want 0 and 2", a, b)
	}
}
