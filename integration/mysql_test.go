package integration

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/pem"
	"errors"
	"fmt"
	"github.com/sluice-proxy/sluice/internal/poll"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// mysqlYAML is a listener with mysql_proxy (extra config in mysqlExtra) and
// the given extra filters in front of tcp_proxy to one MariaDB.
func mysqlYAML(backend, mysqlExtra, extraFilters string) string {
	return fmt.Sprintf(`
listeners:
  - name: mysql
    address: 127.0.0.1:0
    filters:
%s      - mysql_proxy: {stat_prefix: db%s}
      - tcp_proxy: {stat_prefix: db, cluster: mariadb}
clusters:
  - name: mariadb
    connect_timeout: 2s
    endpoints: ["%s"]
`, extraFilters, mysqlExtra, backend)
}

// mysqlDB opens a go-sql-driver pool through sluice with one connection.
func mysqlDB(t *testing.T, addr, user, pass, db string, mod func(*mysql.Config)) *sql.DB {
	t.Helper()
	cfg := mysql.NewConfig()
	cfg.Net, cfg.Addr, cfg.User, cfg.Passwd, cfg.DBName = "tcp", addr, user, pass, db
	cfg.Timeout, cfg.ReadTimeout = 5*time.Second, 30*time.Second
	if mod != nil {
		mod(cfg)
	}
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	d := sql.OpenDB(c)
	d.SetMaxOpenConns(1)
	d.SetMaxIdleConns(1)
	t.Cleanup(func() { d.Close() })
	return d
}

// wantCounters checks exact counter values, all of them before failing.
func wantCounters(t *testing.T, s *sluicetest.Sluice, want map[string]uint64) {
	t.Helper()
	for name, v := range want {
		// Statements parsed off an event loop are counted a moment later.
		poll.Until(5*time.Second, func() bool { return s.Counter(name) == v })
		if got := s.Counter(name); got != v {
			t.Errorf("%s = %d, want %d", name, got, v)
		}
	}
}

func histCount(s *sluicetest.Sluice, name string) uint64 {
	d, _ := s.Store.HistogramSnapshot(name)
	return d.Count
}

// TestMySQLProxyWorkload runs a scripted go-sql-driver workload through
// mysql_proxy + tcp_proxy and checks every stat exactly: text queries of each
// kind, a prepared statement executed twice, a 200k-row result set, then a
// failed login on a second connection.
func TestMySQLProxyWorkload(t *testing.T) {
	srv := testenv.MariaDB(t)
	s := sluicetest.Start(t, mysqlYAML(srv.Addr(), "", ""))
	ctx := context.Background()
	db := mysqlDB(t, s.Addr("mysql"), "root", "", "", nil)
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"CREATE DATABASE shop",
		"CREATE TABLE shop.orders (id INT PRIMARY KEY AUTO_INCREMENT, item VARCHAR(64), qty INT)",
		"INSERT INTO shop.orders (item, qty) VALUES ('apple', 1), ('pear', 2), ('plum', 5)",
		"UPDATE shop.orders SET qty = 3 WHERE item = 'apple'",
		"DELETE FROM shop.orders WHERE item = 'pear'",
	} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	var n int
	if err := conn.QueryRowContext(ctx, "SELECT COUNT(*) FROM shop.orders").Scan(&n); err != nil || n != 2 {
		t.Fatalf("count = %d, %v; want 2", n, err)
	}
	stmt, err := conn.PrepareContext(ctx, "SELECT item FROM shop.orders WHERE qty > ?")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		min  int
		want int
	}{{0, 2}, {4, 1}} {
		rows, err := stmt.QueryContext(ctx, tc.min)
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		for rows.Next() {
			got++
		}
		if err := rows.Err(); err != nil || got != tc.want {
			t.Fatalf("qty > %d: %d rows, %v; want %d", tc.min, got, err, tc.want)
		}
		rows.Close()
	}
	stmt.Close()
	// A large result set, streamed through the observer.
	rows, err := conn.QueryContext(ctx, "SELECT seq, REPEAT('x', 100) FROM shop.seq_1_to_200000")
	if err != nil {
		t.Fatal(err)
	}
	var sum, count int64
	for rows.Next() {
		var v int64
		var pad string
		if err := rows.Scan(&v, &pad); err != nil {
			t.Fatal(err)
		}
		sum += v
		count++
	}
	if err := rows.Err(); err != nil || count != 200000 || sum != 200000*200001/2 {
		t.Fatalf("large result: %d rows, sum %d, %v", count, sum, err)
	}
	rows.Close()
	conn.Close()
	db.Close()

	// A failed login on a new connection.
	bad := mysqlDB(t, s.Addr("mysql"), testenv.MariaDBUser, "wrong", "", nil)
	var me1045 *mysql.MySQLError
	if err := bad.Ping(); !errors.As(err, &me1045) || me1045.Number != 1045 {
		t.Fatalf("bad password: %v, want ERR 1045", err)
	}
	bad.Close()
	poll.Eventually(t, 5*time.Second, func() bool {
		return s.Counter("tcp.db.downstream_cx_total") == 2 &&
			s.Gauge("cluster.mariadb.upstream_cx_active") == 0
	}, "connections not done")
	wantCounters(t, s, map[string]uint64{
		"mysql.db.sessions":            2,
		"mysql.db.login_attempts":      2,
		"mysql.db.login_failures":      1,
		"mysql.db.decoder_errors":      0,
		"mysql.db.protocol_errors":     0,
		"mysql.db.upgraded_to_ssl":     0,
		"mysql.db.auth_switch_request": 0,
		"mysql.db.queries_parsed":      8,
		"mysql.db.queries_parse_error": 0,
		"mysql.db.parse_cache_misses":  8, // eight shapes, each parsed once
		"mysql.db.parse_cache_hits":    0,
		"mysql.db.statements_select":   3, // COUNT, the prepare, the large one
		"mysql.db.statements_insert":   1,
		"mysql.db.statements_update":   1,
		"mysql.db.statements_delete":   1,
		"mysql.db.statements_other":    2,
		"mysql.db.statements_denied":   0,
		"tcp.db.downstream_cx_total":   2,
	})
	if got := histCount(s, "mysql.db.query_time_ms"); got != 9 {
		t.Errorf("query_time_ms count = %d, want 9 (7 queries, 2 executes)", got)
	}
}

// mariadbCLI runs the mariadb client against addr in batch mode.
func mariadbCLI(t *testing.T, addr string, args ...string) (string, error) {
	t.Helper()
	host, port, _ := strings.Cut(addr, ":")
	base := []string{"--no-defaults", "--protocol=tcp", "-h", host, "-P", port, "-u", "root", "--batch", "--skip-column-names"}
	out, err := exec.Command("mariadb", append(base, args...)...).CombinedOutput()
	return string(out), err
}

// TestMySQLEnvoySandbox runs Envoy's mysql sandbox checks with the mariadb
// CLI through sluice and checks the mysql.<prefix> and tcp.<prefix> stats.
func TestMySQLEnvoySandbox(t *testing.T) {
	if _, err := exec.LookPath("mariadb"); err != nil {
		t.Fatal("the mariadb client is not installed (.ci/deps.sh installs mariadb-client)")
	}
	srv := testenv.MariaDB(t)
	s := sluicetest.Start(t, mysqlYAML(srv.Addr(), "", ""))
	out, err := mariadbCLI(t, s.Addr("mysql"), "-e",
		"SHOW DATABASES; CREATE DATABASE test; USE test; CREATE TABLE test (text VARCHAR(255)); "+
			"INSERT INTO test VALUES ('hello, world!'); SELECT COUNT(*) FROM test;")
	if err != nil {
		t.Fatalf("mariadb: %v\n%s", err, out)
	}
	lines := strings.Fields(out)
	if !strings.Contains(out, "mysql") || lines[len(lines)-1] != "1" {
		t.Fatalf("unexpected output:\n%s", out)
	}
	poll.Eventually(t, 5*time.Second, func() bool { return s.Gauge("cluster.mariadb.upstream_cx_active") == 0 },
		"connection not done")
	wantCounters(t, s, map[string]uint64{
		"mysql.db.sessions":            1,
		"mysql.db.login_attempts":      1,
		"mysql.db.login_failures":      0,
		"mysql.db.decoder_errors":      0,
		"mysql.db.protocol_errors":     0,
		"mysql.db.upgraded_to_ssl":     0,
		"mysql.db.auth_switch_request": 0,
		// The CLI's own "select @@version_comment limit 1", SHOW, two
		// CREATEs, INSERT and SELECT; USE goes as COM_INIT_DB, not a query.
		"mysql.db.queries_parsed":      6,
		"mysql.db.queries_parse_error": 0,
		"mysql.db.statements_select":   2,
		"mysql.db.statements_insert":   1,
		"mysql.db.statements_other":    3,
		"tcp.db.downstream_cx_total":   1,
	})
	if s.Counter("tcp.db.downstream_cx_rx_bytes_total") == 0 || s.Counter("tcp.db.downstream_cx_tx_bytes_total") == 0 {
		t.Error("tcp.db byte counters did not move")
	}
}

// writeCert writes a self-signed ECDSA certificate for names and returns the
// certificate and key file paths.
func writeCert(t *testing.T, names ...string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: names[0]}, DNSNames: names,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
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
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// TestMySQLTerminateSSL: sluice answers the client's SSLRequest with its own
// certificate, keeps decoding inside TLS, publishes the SNI for rbac and
// talks plain text to a server that has no TLS at all; the go-sql-driver
// (with a ServerName) and the mariadb CLI (--ssl) both work.
func TestMySQLTerminateSSL(t *testing.T) {
	srv := testenv.MariaDB(t)
	certFile, keyFile := writeCert(t, "db.example")
	s := sluicetest.Start(t, mysqlYAML(srv.Addr(),
		", terminate_ssl: {certificate_file: "+certFile+", private_key_file: "+keyFile+"}",
		`      - rbac:
          stat_prefix: guard
          rules:
            action: DENY
            policies:
              no-drops-via-db-example:
                permissions:
                  - and_rules:
                      rules:
                        - requested_server_name: {exact: db.example}
                        - sql: {operations: [drop]}
                principals: [{any: true}]
`))
	if err := mysql.RegisterTLSConfig("sluice-db-example", &tls.Config{ServerName: "db.example", InsecureSkipVerify: true}); err != nil {
		t.Fatal(err)
	}
	db := mysqlDB(t, s.Addr("mysql"), testenv.MariaDBUser, testenv.MariaDBPassword, "",
		func(c *mysql.Config) { c.TLSConfig = "sluice-db-example" })
	var cipher string
	if err := db.QueryRow("SHOW SESSION STATUS LIKE 'Ssl_cipher'").Scan(new(string), &cipher); err != nil {
		t.Fatal(err)
	}
	if cipher != "" {
		t.Fatalf("server-side Ssl_cipher = %q; sluice should talk plain text upstream", cipher)
	}
	if _, err := db.Exec("CREATE DATABASE tls_db"); err != nil {
		t.Fatal(err)
	}
	var me *mysql.MySQLError
	if _, err := db.Exec("DROP DATABASE tls_db"); !errors.As(err, &me) || me.Number != 1142 ||
		!strings.Contains(me.Message, "no-drops-via-db-example") {
		t.Fatalf("DROP over TLS with SNI db.example: %v; want ERR 1142", err)
	}
	db.Close()
	out, err := mariadbCLI(t, s.Addr("mysql"), "--ssl", "-e", "SELECT 40 + 2; SHOW DATABASES LIKE 'tls_db'")
	if err != nil || !strings.Contains(out, "42") || !strings.Contains(out, "tls_db") {
		t.Fatalf("mariadb --ssl: %v\n%s", err, out)
	}
	poll.Eventually(t, 5*time.Second, func() bool { return s.Gauge("cluster.mariadb.upstream_cx_active") == 0 },
		"connections not done")
	wantCounters(t, s, map[string]uint64{
		"mysql.db.sessions":          2,
		"mysql.db.upgraded_to_ssl":   2,
		"mysql.db.login_attempts":    2,
		"mysql.db.login_failures":    0,
		"mysql.db.protocol_errors":   0,
		"mysql.db.decoder_errors":    0,
		"mysql.db.statements_denied": 1,
		"guard.rbac.denied":          1,
	})
}

// sslCipher returns the server's Ssl_cipher for db's connection: what the
// server itself sees of the leg from sluice.
func sslCipher(t *testing.T, db *sql.DB) string {
	t.Helper()
	var cipher string
	if err := db.QueryRow("SHOW SESSION STATUS LIKE 'Ssl_cipher'").Scan(new(string), &cipher); err != nil {
		t.Fatal(err)
	}
	return cipher
}

// TestMySQLUpstreamSSL: with upstream_ssl: require (verifying the server's
// certificate by CA file and IP name) the server sees TLS while the client
// speaks plain text to sluice, for mysql_native_password (root and a user
// with a password), ed25519 and the mariadb CLI; and, with terminate_ssl on
// as well, while the client speaks TLS to sluice.
func TestMySQLUpstreamSSL(t *testing.T) {
	srv := testenv.MariaDB(t, testenv.MariaDBTLS())
	if _, err := srv.CLI("-e", "INSTALL SONAME 'auth_ed25519'; "+
		"CREATE USER 'ed'@'%' IDENTIFIED VIA ed25519 USING PASSWORD('ed-secret'); GRANT ALL ON *.* TO 'ed'@'%'"); err != nil {
		t.Fatalf("ed25519 user: %v", err)
	}
	upstream := ", upstream_ssl: require, upstream_tls: {ca_file: " + srv.CAFile() + ", server_name: 127.0.0.1}"
	s := sluicetest.Start(t, mysqlYAML(srv.Addr(), upstream, ""))
	for _, u := range []struct{ user, pass string }{
		{"root", ""}, {testenv.MariaDBUser, testenv.MariaDBPassword}, {"ed", "ed-secret"},
	} {
		db := mysqlDB(t, s.Addr("mysql"), u.user, u.pass, "", nil)
		if c := sslCipher(t, db); c == "" {
			t.Fatalf("%s: server-side Ssl_cipher is empty; sluice should speak TLS upstream", u.user)
		}
		var n int
		if err := db.QueryRow("SELECT 40 + 2").Scan(&n); err != nil || n != 42 {
			t.Fatalf("%s: SELECT 40 + 2 = %d, %v", u.user, n, err)
		}
		db.Close()
	}
	if _, err := exec.LookPath("mariadb"); err == nil {
		out, err := mariadbCLI(t, s.Addr("mysql"), "--skip-ssl", "-e", "SHOW SESSION STATUS LIKE 'Ssl_cipher'")
		if f := strings.Fields(out); err != nil || len(f) != 2 || f[0] != "Ssl_cipher" {
			t.Fatalf("mariadb --skip-ssl through upstream_ssl: %v\n%s", err, out)
		}
	}
	poll.Eventually(t, 5*time.Second, func() bool { return s.Gauge("cluster.mariadb.upstream_cx_active") == 0 },
		"connections not done")
	n := s.Counter("mysql.db.sessions")
	wantCounters(t, s, map[string]uint64{
		"mysql.db.upstream_ssl_success": n,
		"mysql.db.upstream_ssl_failed":  0,
		"mysql.db.upgraded_to_ssl":      0,
		"mysql.db.login_attempts":       n,
		"mysql.db.login_failures":       0,
		"mysql.db.protocol_errors":      0,
		"mysql.db.decoder_errors":       0,
	})

	// terminate_ssl and upstream_ssl together: TLS on both legs.
	certFile, keyFile := writeCert(t, "db.example")
	both := sluicetest.Start(t, mysqlYAML(srv.Addr(),
		", terminate_ssl: {certificate_file: "+certFile+", private_key_file: "+keyFile+"}"+upstream, ""))
	if err := mysql.RegisterTLSConfig("sluice-upstream-both", &tls.Config{ServerName: "db.example", InsecureSkipVerify: true}); err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct{ user, pass string }{{testenv.MariaDBUser, testenv.MariaDBPassword}, {"ed", "ed-secret"}} {
		db := mysqlDB(t, both.Addr("mysql"), u.user, u.pass, "", func(c *mysql.Config) { c.TLSConfig = "sluice-upstream-both" })
		if c := sslCipher(t, db); c == "" {
			t.Fatalf("%s: terminate_ssl + upstream_ssl: server-side Ssl_cipher is empty", u.user)
		}
		db.Close()
	}
	poll.Eventually(t, 5*time.Second, func() bool { return both.Gauge("cluster.mariadb.upstream_cx_active") == 0 },
		"connections not done")
	wantCounters(t, both, map[string]uint64{
		"mysql.db.sessions":             2,
		"mysql.db.upgraded_to_ssl":      2,
		"mysql.db.upstream_ssl_success": 2,
		"mysql.db.upstream_ssl_failed":  0,
		"mysql.db.login_attempts":       2,
		"mysql.db.login_failures":       0,
		"mysql.db.protocol_errors":      0,
	})
}

// TestMySQLUpstreamSSLServerWithoutTLS: a server that does not offer TLS
// ends the session under upstream_ssl: require; the client gets ERR 1043
// naming the reason and upstream_ssl_failed counts it.
func TestMySQLUpstreamSSLServerWithoutTLS(t *testing.T) {
	srv := testenv.MariaDB(t, testenv.MariaDBArgs("--skip-ssl"))
	s := sluicetest.Start(t, mysqlYAML(srv.Addr(), ", upstream_ssl: require", ""))
	db := mysqlDB(t, s.Addr("mysql"), "root", "", "", nil)
	var me *mysql.MySQLError
	if err := db.Ping(); !errors.As(err, &me) || me.Number != 1043 || !strings.Contains(me.Message, "does not offer TLS") {
		t.Fatalf("ping: %v; want ERR 1043 saying the server does not offer TLS", err)
	}
	poll.Eventually(t, 5*time.Second, func() bool { return s.Gauge("cluster.mariadb.upstream_cx_active") == 0 },
		"connections not done")
	if s.Counter("mysql.db.upstream_ssl_failed") == 0 || s.Counter("mysql.db.upstream_ssl_success") != 0 {
		t.Fatalf("upstream_ssl_failed = %d, success = %d; want failures only",
			s.Counter("mysql.db.upstream_ssl_failed"), s.Counter("mysql.db.upstream_ssl_success"))
	}
	if got, want := s.Counter("mysql.db.upstream_ssl_failed"), s.Counter("mysql.db.sessions"); got != want {
		t.Fatalf("upstream_ssl_failed = %d, want one per session (%d)", got, want)
	}
}
