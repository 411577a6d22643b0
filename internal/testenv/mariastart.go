package testenv

import (
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
)

// startMariaDB runs mariadb-install-db into a fresh dir, starts mariadbd on
// a free port and creates MariaDBUser; o stops it and removes the dir.
func startMariaDB(o owner, cfg mariaConfig) (*mariaCore, error) {
	bin, err := lookBin("mariadbd", "mariadb-server", "/usr/sbin")
	if err != nil {
		return nil, err
	}
	install, err := lookBin("mariadb-install-db", "mariadb-server", "/usr/bin")
	if err != nil {
		return nil, err
	}
	cli, err := lookBin("mariadb", "mariadb-client")
	if err != nil {
		return nil, err
	}
	c := &mariaCore{bin: bin, cli: cli, host: "127.0.0.1", args: cfg.args}
	if c.dir, err = tempDir(o, "mariadb"); err != nil {
		return nil, err
	}
	o.Cleanup(func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.p != nil {
			c.p.kill()
		}
	})
	// A private tmpdir: concurrent bootstraps sharing /tmp have been seen to
	// lose each other's temporary tables ("Unknown table mysql.tmp_user_...").
	if err := os.MkdirAll(c.tmpdir(), 0o755); err != nil {
		return nil, err
	}
	args := []string{"--no-defaults", "--datadir=" + c.datadir(), "--auth-root-authentication-method=normal",
		"--skip-test-db", "--skip-name-resolve", "--tmpdir=" + c.tmpdir()}
	args = append(args, c.userArg()...)
	if out, err := exec.Command(install, args...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("testenv: mariadb-install-db: %w\n%s", err, out)
	}
	if cfg.tls {
		if c.cert, err = newSelfSigned(); err != nil {
			return nil, err
		}
		if err := c.cert.write(c.path("server.crt"), c.path("server.key"), -1, -1); err != nil {
			return nil, err
		}
	}
	err = withFreePort(c.logPath(), func(port int) error {
		c.port = port
		if c.cert != nil {
			c.tlsName = "testenv-mariadb-" + strconv.Itoa(port)
			if err := mysql.RegisterTLSConfig(c.tlsName, c.cert.clientConfig()); err != nil {
				return fmt.Errorf("testenv: registering TLS config: %w", err)
			}
		}
		return c.start()
	})
	if err != nil {
		return nil, err
	}
	return c, c.exec(
		"CREATE USER '"+MariaDBUser+"'@'%' IDENTIFIED BY '"+MariaDBPassword+"'",
		"GRANT ALL ON *.* TO '"+MariaDBUser+"'@'%'",
	)
}

// userArg is --user=root when running as root: mariadbd refuses root
// otherwise, and the temp dir is root's.
func (c *mariaCore) userArg() []string {
	if os.Geteuid() == 0 {
		return []string{"--user=root"}
	}
	return nil
}

func (c *mariaCore) path(name string) string { return filepath.Join(c.dir, name) }
func (c *mariaCore) datadir() string         { return c.path("data") }
func (c *mariaCore) socket() string          { return c.path("mysqld.sock") }
func (c *mariaCore) tmpdir() string          { return c.path("tmp") }
func (c *mariaCore) logPath() string         { return c.path("mariadb.log") }

// start runs mariadbd on c.port and waits for a root ping.
func (c *mariaCore) start() error {
	args := []string{
		"--no-defaults", "--datadir=" + c.datadir(), "--socket=" + c.socket(),
		"--pid-file=" + c.path("mysqld.pid"), "--port=" + strconv.Itoa(c.port),
		"--bind-address=127.0.0.1", "--skip-name-resolve", "--skip-log-bin",
		"--innodb-buffer-pool-size=32M", "--innodb-flush-log-at-trx-commit=2",
		"--log-error=" + c.logPath(), "--tmpdir=" + c.tmpdir(),
	}
	args = append(args, c.userArg()...)
	if c.cert != nil {
		args = append(args, "--ssl-cert="+c.path("server.crt"), "--ssl-key="+c.path("server.key"))
	}
	args = append(args, c.args...)
	p, err := startProc(procSpec{name: "mariadbd", path: c.bin, args: args, dir: c.dir, logPath: c.logPath()})
	if err != nil {
		return err
	}
	c.p = p
	if err := p.waitReady(startTimeout, c.ping); err != nil {
		p.kill()
		c.p = nil
		return fmt.Errorf("testenv: mariadbd on %s: %w\nlog tail:\n%s", c.addr(), err, p.tail(30))
	}
	return nil
}

// ping waits for the port, then pings as root (dialing first keeps the
// driver from logging half-open handshakes during startup).
func (c *mariaCore) ping() error {
	if err := dialable(c.addr()); err != nil {
		return err
	}
	db, err := sql.Open("mysql", c.config("root", "", "").FormatDSN())
	if err != nil {
		return err
	}
	defer db.Close()
	return db.Ping()
}

// Kill sends SIGKILL to mariadbd; Restart then runs InnoDB recovery.
func (s *MariaDBServer) Kill() { s.t.Helper(); s.life().kill() }

// Stop shuts mariadbd down (SIGTERM).
func (s *MariaDBServer) Stop() { s.t.Helper(); s.life().stop() }

// Restart stops the server if it runs and starts it again on the same port
// and data directory; data persists.
func (s *MariaDBServer) Restart() { s.t.Helper(); s.life().restart() }

func (s *MariaDBServer) life() lifecycle {
	return lifecycle{t: s.t, shared: s.shared, kind: "MariaDBServer", ctor: "testenv.MariaDB(t)", env: EnvMySQLDSN, c: s.c}
}

func (c *mariaCore) state() (*sync.Mutex, **proc, bool) { return &c.mu, &c.p, c.external != nil }

// stop shuts mariadbd down; the caller holds c.mu.
func (c *mariaCore) stop() error {
	if c.p == nil {
		return nil
	}
	err := c.p.stop(30 * time.Second)
	c.p = nil
	return err
}
