package testenv_test

import (
	"strings"
	"testing"

	"github.com/sluice-proxy/sluice/internal/testenv"
)

// skips reports whether f skips the subtest it runs in.
func skips(t *testing.T, f func(t *testing.T)) bool {
	var skipped bool
	t.Run("sub", func(st *testing.T) {
		defer func() { skipped = st.Skipped() }()
		f(st)
	})
	return skipped
}

func TestExternalTargets(t *testing.T) {
	r := testenv.Redis(t, testenv.RedisArgs()) // an option: always private
	pg := testenv.SharedPostgres(t)
	my := testenv.SharedMariaDB(t)
	t.Setenv(testenv.EnvRedisAddr, r.Addr())
	t.Setenv(testenv.EnvPostgresDSN, pg.DSN("postgres"))
	t.Setenv(testenv.EnvMySQLDSN, my.DSN(""))

	t.Run("redis", func(t *testing.T) {
		ext := testenv.Redis(t)
		if ext.Addr() != r.Addr() {
			t.Fatalf("Addr = %s, want the external %s", ext.Addr(), r.Addr())
		}
		if out, err := ext.CLI("PING"); err != nil || out != "PONG" {
			t.Fatalf("CLI PING = %q, %v", out, err)
		}
		if !skips(t, func(t *testing.T) { testenv.Redis(t).Kill() }) {
			t.Fatal("Kill on an external redis did not skip")
		}
	})
	t.Run("postgres", func(t *testing.T) {
		ext := testenv.Postgres(t)
		if ext.Addr() != pg.Addr() || !strings.HasSuffix(strings.Split(ext.DSN("other"), "?")[0], "/other") {
			t.Fatalf("Addr %s DSN %s; want %s and database other", ext.Addr(), ext.DSN("other"), pg.Addr())
		}
		if err := pgSelect1(ext.DSN("postgres"), nil); err != nil {
			t.Fatal(err)
		}
		if !skips(t, func(t *testing.T) { testenv.Postgres(t).Restart() }) {
			t.Fatal("Restart on an external postgres did not skip")
		}
	})
	t.Run("mariadb", func(t *testing.T) {
		ext := testenv.MariaDB(t)
		if ext.Addr() != my.Addr() {
			t.Fatalf("Addr = %s, want %s", ext.Addr(), my.Addr())
		}
		if err := mysqlSelect1(ext.DSN("mysql")); err != nil {
			t.Fatal(err)
		}
		if out, err := ext.CLI("-e", "select 7"); err != nil || out != "7" {
			t.Fatalf("CLI = %q, %v", out, err)
		}
		if !skips(t, func(t *testing.T) { testenv.MariaDB(t).Kill() }) {
			t.Fatal("Kill on an external mariadb did not skip")
		}
	})
}
