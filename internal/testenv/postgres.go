package testenv

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Roles created in every harness-started PostgreSQL besides the trusted
// superuser "postgres".
const (
	// PostgresUser logs in over TCP with PostgresPassword (SCRAM-SHA-256).
	PostgresUser = "sluice"
	// PostgresMD5User logs in over TCP with PostgresPassword (MD5).
	PostgresMD5User = "sluice_md5"
	// PostgresPassword is the password of PostgresUser and PostgresMD5User.
	PostgresPassword = "sluice"
)

// PostgresServer is a private PostgreSQL cluster (or an external server).
// Methods fail, or for an external or shared server skip, the test that
// obtained the handle.
type PostgresServer struct {
	t      testing.TB
	c      *pgCore
	shared bool
}

// pgCore is the server itself, shared by the handles of SharedPostgres.
type pgCore struct {
	mu       sync.Mutex
	bindir   string
	dir      string
	cred     *syscall.Credential
	port     int
	host     string
	p        *proc
	cert     *selfSigned
	conf     []string
	external *url.URL
}

type pgConfig struct {
	ssl  bool
	conf []string
}

// PostgresOption configures Postgres.
type PostgresOption func(*pgConfig)

// PostgresSSL turns ssl on with a self-signed certificate (see TLSConfig);
// DSN then asks for sslmode=require.
func PostgresSSL() PostgresOption { return func(c *pgConfig) { c.ssl = true } }

// PostgresConf adds a postgresql.conf setting, e.g. ("max_connections", "20").
func PostgresConf(name, value string) PostgresOption {
	return func(c *pgConfig) { c.conf = append(c.conf, fmt.Sprintf("%s = '%s'", name, value)) }
}

// Postgres starts a private PostgreSQL cluster on a free port, stopped at
// test end; or, when SLUICE_TEST_POSTGRES_DSN is set and no option is given,
// returns a handle to that server.
func Postgres(t testing.TB, opts ...PostgresOption) *PostgresServer {
	t.Helper()
	var cfg pgConfig
	for _, o := range opts {
		o(&cfg)
	}
	if len(opts) == 0 {
		if c := externalPostgres(t); c != nil {
			return &PostgresServer{t: t, c: c}
		}
	}
	c, err := startPostgres(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("testenv: postgres %s log tail:\n%s", c.addr(), logTail(c.logPath(), 20))
		}
	})
	return &PostgresServer{t: t, c: c}
}

// SharedPostgres returns the test binary's PostgreSQL, started on first use
// and stopped by Main (which TestMain must call). Tests share it: use
// CreateDB for a private database; Kill, Stop and Restart skip.
func SharedPostgres(t testing.TB) *PostgresServer {
	t.Helper()
	if c := externalPostgres(t); c != nil {
		return &PostgresServer{t: t, c: c, shared: true}
	}
	c := sharedServer(t, "postgres", func(o owner) (any, error) { return startPostgres(o, pgConfig{}) })
	return &PostgresServer{t: t, c: c.(*pgCore), shared: true}
}

// externalPostgres returns a core for SLUICE_TEST_POSTGRES_DSN, or nil.
func externalPostgres(t testing.TB) *pgCore {
	t.Helper()
	dsn := os.Getenv(EnvPostgresDSN)
	if dsn == "" {
		return nil
	}
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("testenv: %s must be a postgres:// URL: %q (%v)", EnvPostgresDSN, dsn, err)
	}
	host, port, err := splitHostPort(u.Host)
	if err != nil {
		t.Fatalf("testenv: %s=%q: host: %v", EnvPostgresDSN, dsn, err)
	}
	return &pgCore{external: u, host: host, port: port}
}

// DSN returns a postgres:// URL for the superuser, no password needed, to
// database db.
func (s *PostgresServer) DSN(db string) string {
	if u := s.c.external; u != nil {
		v := *u
		v.Path = "/" + db
		return v.String()
	}
	return s.c.dsn("postgres", "", db)
}

// UserDSN returns a postgres:// URL for user with password to database db,
// e.g. UserDSN(PostgresUser, PostgresPassword, "postgres").
func (s *PostgresServer) UserDSN(user, password, db string) string {
	u, _ := url.Parse(s.DSN(db))
	u.User = url.UserPassword(user, password)
	return u.String()
}

// dsn builds a URL to the harness-started server.
func (c *pgCore) dsn(user, password, db string) string {
	u := url.URL{Scheme: "postgres", User: url.User(user), Host: c.addr(), Path: "/" + db}
	if password != "" {
		u.User = url.UserPassword(user, password)
	}
	mode := "disable"
	if c.cert != nil {
		mode = "require"
	}
	u.RawQuery = "sslmode=" + mode
	return u.String()
}

func (c *pgCore) addr() string { return net.JoinHostPort(c.host, strconv.Itoa(c.port)) }

func (c *pgCore) logPath() string { return filepath.Join(c.dir, "postgres.log") }

// Addr returns host:port of the server.
func (s *PostgresServer) Addr() string { return s.c.addr() }

// Port returns the server's TCP port.
func (s *PostgresServer) Port() int { return s.c.port }

// SocketDir returns the directory holding the server's unix socket
// (.s.PGSQL.<port>), or "" for an external server.
func (s *PostgresServer) SocketDir() string { return s.c.dir }

// TLSConfig returns a client config trusting the server's self-signed
// certificate (PostgresSSL), or nil.
func (s *PostgresServer) TLSConfig() *tls.Config {
	if s.c.cert == nil {
		return nil
	}
	return s.c.cert.clientConfig()
}

// Psql runs psql (unaligned, tuples only, stop on error) as the superuser
// against database postgres with args, e.g. Psql("-c", "select 1").
func (s *PostgresServer) Psql(args ...string) (string, error) {
	bin := "psql"
	if s.c.bindir != "" {
		bin = filepath.Join(s.c.bindir, "psql")
	}
	base := []string{"-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-d", s.DSN("postgres")}
	return runOutput(exec.Command(bin, append(base, args...)...))
}

// CreateDB creates database name, dropped at the end of the calling test,
// and returns its superuser DSN.
func (s *PostgresServer) CreateDB(name string) string {
	s.t.Helper()
	q := pgx.Identifier{name}.Sanitize()
	if err := s.exec("CREATE DATABASE " + q); err != nil {
		s.t.Fatalf("testenv: create database %s: %v", name, err)
	}
	s.t.Cleanup(func() { _ = s.exec("DROP DATABASE IF EXISTS " + q + " WITH (FORCE)") })
	return s.DSN(name)
}

// exec runs one statement as the superuser.
func (s *PostgresServer) exec(sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.DSN("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// Kill sends SIGKILL to the postmaster and its backends; Restart then runs
// crash recovery.
func (s *PostgresServer) Kill() { s.t.Helper(); s.life().kill() }

// Stop shuts the server down (fast shutdown: SIGINT).
func (s *PostgresServer) Stop() { s.t.Helper(); s.life().stop() }

// Restart stops the server if it runs and starts it again on the same port
// and data directory; data persists.
func (s *PostgresServer) Restart() { s.t.Helper(); s.life().restart() }

func (s *PostgresServer) life() lifecycle {
	return lifecycle{t: s.t, shared: s.shared, kind: "PostgresServer", ctor: "testenv.Postgres(t)", env: EnvPostgresDSN, c: s.c}
}

func (c *pgCore) state() (*sync.Mutex, **proc, bool) { return &c.mu, &c.p, c.external != nil }
