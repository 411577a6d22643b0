package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgHBA lets the superuser in without a password (local and loopback) and
// makes the two test roles authenticate with MD5 and SCRAM-SHA-256.
const pgHBA = `local all all trust
host all postgres 127.0.0.1/32 trust
host all ` + PostgresMD5User + ` 127.0.0.1/32 md5
host all all 127.0.0.1/32 scram-sha-256
`

// startPostgres runs initdb into a fresh dir, starts postgres on a free
// port and creates the test roles; o stops it and removes the dir.
func startPostgres(o owner, cfg pgConfig) (*pgCore, error) {
	bindir, err := postgresBindir()
	if err != nil {
		return nil, err
	}
	c := &pgCore{bindir: bindir, host: "127.0.0.1", conf: cfg.conf}
	uid, gid := -1, -1
	if os.Geteuid() == 0 {
		// initdb and postgres refuse to run as root.
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("testenv: running as root needs the postgres user (Debian package postgresql creates it): %w", err)
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
		c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	if c.dir, err = tempDir(o, "postgres"); err != nil {
		return nil, err
	}
	if uid >= 0 {
		if err := os.Chown(c.dir, uid, gid); err != nil {
			return nil, fmt.Errorf("testenv: chown %s: %w", c.dir, err)
		}
	}
	o.Cleanup(func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.p != nil {
			c.p.kill() // a test database: no need for a clean shutdown
		}
	})
	if err := c.initdb(); err != nil {
		return nil, err
	}
	if cfg.ssl {
		if c.cert, err = newSelfSigned(); err != nil {
			return nil, err
		}
		data := filepath.Join(c.dir, "data")
		if err := c.cert.write(filepath.Join(data, "server.crt"), filepath.Join(data, "server.key"), uid, gid); err != nil {
			return nil, err
		}
		c.conf = append(c.conf, "ssl = on", "ssl_cert_file = 'server.crt'", "ssl_key_file = 'server.key'")
	}
	if err := c.writeConfig(); err != nil {
		return nil, err
	}
	if err := withFreePort(c.logPath(), func(port int) error { c.port = port; return c.start() }); err != nil {
		return nil, err
	}
	return c, c.createRoles()
}

// postgresBindir finds the PostgreSQL server binaries: SLUICE_TEST_PG_BINDIR,
// the newest /usr/lib/postgresql/*/bin, or initdb in PATH.
func postgresBindir() (string, error) {
	if d := os.Getenv("SLUICE_TEST_PG_BINDIR"); d != "" {
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return pgVersion(b) - pgVersion(a) })
	p, err := lookBin("initdb", "postgresql", dirs...)
	if err != nil {
		return "", err
	}
	if len(dirs) > 0 { // prefer the versioned dir: PATH may hold Debian's wrappers
		if _, err := os.Stat(filepath.Join(dirs[0], "initdb")); err == nil {
			return dirs[0], nil
		}
	}
	return filepath.Dir(p), nil
}

// pgVersion extracts N from /usr/lib/postgresql/N/bin.
func pgVersion(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

// initdb creates the cluster in dir/data.
func (c *pgCore) initdb() error {
	cmd := exec.Command(filepath.Join(c.bindir, "initdb"), "-D", filepath.Join(c.dir, "data"),
		"-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync")
	cmd.Dir = c.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred, Pdeathsig: syscall.SIGKILL}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("testenv: initdb: %w\n%s", err, out)
	}
	return nil
}

// writeConfig appends the test settings to postgresql.conf and replaces
// pg_hba.conf; the files keep their owner.
func (c *pgCore) writeConfig() error {
	data := filepath.Join(c.dir, "data")
	conf := append([]string{
		"listen_addresses = '127.0.0.1'",
		// Fast but crash safe for Kill: fsync off only risks an OS crash;
		// synchronous_commit stays on so a killed server keeps its commits.
		"fsync = off", "full_page_writes = off",
		"logging_collector = off", "log_min_messages = warning",
	}, c.conf...)
	f, err := os.OpenFile(filepath.Join(data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("testenv: postgresql.conf: %w", err)
	}
	_, err = f.WriteString("\n# sluice testenv\n" + strings.Join(conf, "\n") + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("testenv: postgresql.conf: %w", err)
	}
	if err := os.WriteFile(filepath.Join(data, "pg_hba.conf"), []byte(pgHBA), 0o600); err != nil {
		return fmt.Errorf("testenv: pg_hba.conf: %w", err)
	}
	return nil
}

// start runs postgres on c.port and waits for select 1.
func (c *pgCore) start() error {
	p, err := startProc(procSpec{
		name: "postgres", path: filepath.Join(c.bindir, "postgres"),
		args: []string{"-D", filepath.Join(c.dir, "data"), "-p", strconv.Itoa(c.port), "-k", c.dir},
		dir:  c.dir, logPath: c.logPath(), stopSig: syscall.SIGINT, cred: c.cred,
	})
	if err != nil {
		return err
	}
	c.p = p
	if err := p.waitReady(startTimeout, c.ping); err != nil {
		p.kill()
		c.p = nil
		return fmt.Errorf("testenv: postgres on %s: %w\nlog tail:\n%s", c.addr(), err, p.tail(30))
	}
	return nil
}

// stop shuts postgres down; the caller holds c.mu.
func (c *pgCore) stop() error {
	if c.p == nil {
		return nil
	}
	err := c.p.stop(30 * time.Second)
	c.p = nil
	return err
}

// ping connects as the superuser and runs select 1.
func (c *pgCore) ping() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.dsn("postgres", "", "postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "select 1")
	return err
}

// createRoles adds PostgresUser (SCRAM) and PostgresMD5User (MD5 hash).
func (c *pgCore) createRoles() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.dsn("postgres", "", "postgres"))
	if err != nil {
		return fmt.Errorf("testenv: postgres roles: %w", err)
	}
	defer conn.Close(ctx)
	pw := "'" + PostgresPassword + "'"
	for _, q := range []string{
		"CREATE ROLE " + PostgresUser + " LOGIN CREATEDB PASSWORD " + pw,
		"SET password_encryption = 'md5'",
		"CREATE ROLE " + PostgresMD5User + " LOGIN CREATEDB PASSWORD " + pw,
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("testenv: postgres roles: %s: %w", q, err)
		}
	}
	return nil
}
