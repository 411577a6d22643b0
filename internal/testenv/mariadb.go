package testenv

import (
	"crypto/tls"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// The password user created in every harness-started MariaDB, besides root
// (empty password, mysql_native_password, reachable over TCP).
const (
	// MariaDBUser logs in from anywhere with MariaDBPassword.
	MariaDBUser = "sluice"
	// MariaDBPassword is MariaDBUser's password.
	MariaDBPassword = "sluice"
)

// MariaDBServer is a private mariadbd (or an external MySQL-compatible
// server). Methods fail, or for an external server skip, the test that
// obtained the handle.
type MariaDBServer struct {
	t      testing.TB
	c      *mariaCore
	shared bool
}

// mariaCore is the server itself, shared by the handles of SharedMariaDB.
type mariaCore struct {
	mu       sync.Mutex
	bin, cli string
	dir      string
	port     int
	host     string
	args     []string
	p        *proc
	cert     *selfSigned
	tlsName  string // go-sql-driver TLS config name, when TLS is on
	external *mysql.Config
}

type mariaConfig struct {
	tls  bool
	args []string
}

// MariaDBOption configures MariaDB.
type MariaDBOption func(*mariaConfig)

// MariaDBTLS turns TLS on with a self-signed certificate; DSN then uses a
// go-sql-driver TLS config that trusts it.
func MariaDBTLS() MariaDBOption { return func(c *mariaConfig) { c.tls = true } }

// MariaDBArgs appends raw mariadbd options, e.g. "--max-connections=20".
func MariaDBArgs(args ...string) MariaDBOption {
	return func(c *mariaConfig) { c.args = append(c.args, args...) }
}

// MariaDB starts a private mariadbd on a free port, stopped at test end; or,
// when SLUICE_TEST_MYSQL_DSN is set and no option is given, returns a handle
// to that server.
func MariaDB(t testing.TB, opts ...MariaDBOption) *MariaDBServer {
	t.Helper()
	var cfg mariaConfig
	for _, o := range opts {
		o(&cfg)
	}
	if len(opts) == 0 {
		if c := externalMariaDB(t); c != nil {
			return &MariaDBServer{t: t, c: c}
		}
	}
	c, err := startMariaDB(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("testenv: mariadbd %s log tail:\n%s", c.addr(), logTail(c.logPath(), 20))
		}
	})
	return &MariaDBServer{t: t, c: c}
}

// SharedMariaDB returns the test binary's MariaDB, started on first use and
// stopped by Main (which TestMain must call). Tests share it: use CreateDB
// for a private database; Kill, Stop and Restart fail the test.
func SharedMariaDB(t testing.TB) *MariaDBServer {
	t.Helper()
	if c := externalMariaDB(t); c != nil {
		return &MariaDBServer{t: t, c: c, shared: true}
	}
	c := sharedServer(t, "mariadb", func(o owner) (any, error) { return startMariaDB(o, mariaConfig{}) })
	return &MariaDBServer{t: t, c: c.(*mariaCore), shared: true}
}

// externalMariaDB returns a core for SLUICE_TEST_MYSQL_DSN, or nil.
func externalMariaDB(t testing.TB) *mariaCore {
	t.Helper()
	dsn := os.Getenv(EnvMySQLDSN)
	if dsn == "" {
		return nil
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("testenv: %s=%q: %v", EnvMySQLDSN, dsn, err)
	}
	host, port, err := splitHostPort(cfg.Addr)
	if err != nil {
		t.Fatalf("testenv: %s=%q: address: %v", EnvMySQLDSN, dsn, err)
	}
	cli, _ := exec.LookPath("mariadb")
	return &mariaCore{external: cfg, host: host, port: port, cli: cli}
}

// DSN returns a go-sql-driver/mysql DSN for root (empty password) to
// database db ("" for none).
func (s *MariaDBServer) DSN(db string) string {
	return s.UserDSN("root", "", db)
}

// UserDSN returns a go-sql-driver/mysql DSN for user with password to db;
// for an external server, user "root" means the DSN's own credentials.
func (s *MariaDBServer) UserDSN(user, password, db string) string {
	return s.c.config(user, password, db).FormatDSN()
}

// config builds a driver config for the server.
func (c *mariaCore) config(user, password, db string) *mysql.Config {
	if c.external != nil {
		cfg := c.external.Clone()
		cfg.DBName = db
		if user != "root" {
			cfg.User, cfg.Passwd = user, password
		}
		return cfg
	}
	cfg := mysql.NewConfig()
	cfg.User, cfg.Passwd, cfg.DBName = user, password, db
	cfg.Net, cfg.Addr = "tcp", c.addr()
	cfg.TLSConfig = c.tlsName
	return cfg
}

func (c *mariaCore) addr() string { return net.JoinHostPort(c.host, strconv.Itoa(c.port)) }

// Addr returns host:port of the server.
func (s *MariaDBServer) Addr() string { return s.c.addr() }

// Port returns the server's TCP port.
func (s *MariaDBServer) Port() int { return s.c.port }

// Socket returns the server's unix socket path, or "" for an external one.
func (s *MariaDBServer) Socket() string {
	if s.c.external != nil {
		return ""
	}
	return s.c.socket()
}

// TLSConfig returns a client config trusting the server's self-signed
// certificate (MariaDBTLS), or nil.
func (s *MariaDBServer) TLSConfig() *tls.Config {
	if s.c.cert == nil {
		return nil
	}
	return s.c.cert.clientConfig()
}

// CLI runs the mariadb client (batch mode, no column names) as root with
// args, e.g. CLI("-e", "select 1").
func (s *MariaDBServer) CLI(args ...string) (string, error) {
	if s.c.cli == "" {
		return "", fmt.Errorf("testenv: mariadb client not found: install the Debian package mariadb-client")
	}
	cfg := s.c.config("root", "", "")
	base := []string{"--no-defaults", "--protocol=tcp", "-h", s.c.host, "-P", strconv.Itoa(s.c.port),
		"-u", cfg.User, "--batch", "--skip-column-names"}
	if cfg.Passwd != "" {
		base = append(base, "-p"+cfg.Passwd)
	}
	return runOutput(exec.Command(s.c.cli, append(base, args...)...))
}

// CreateDB creates database name, dropped at the end of the calling test,
// and returns its root DSN.
func (s *MariaDBServer) CreateDB(name string) string {
	s.t.Helper()
	if err := s.c.exec("CREATE DATABASE `" + name + "`"); err != nil {
		s.t.Fatalf("testenv: create database %s: %v", name, err)
	}
	s.t.Cleanup(func() { _ = s.c.exec("DROP DATABASE IF EXISTS `" + name + "`") })
	return s.DSN(name)
}

// exec runs statements as root on one connection.
func (c *mariaCore) exec(stmts ...string) error {
	db, err := sql.Open("mysql", c.config("root", "", "").FormatDSN())
	if err != nil {
		return err
	}
	defer db.Close()
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}
