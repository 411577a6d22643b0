package testenv_test

import (
	"context"
	"crypto/tls"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"

	"github.com/sluice-proxy/sluice/internal/testenv"
)

// pgSelect1 connects to dsn (with tlsCfg when not nil) and runs select 1.
func pgSelect1(dsn string, tlsCfg *tls.Config) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return err
	}
	if tlsCfg != nil {
		cfg.TLSConfig = tlsCfg
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var one int
	if err := conn.QueryRow(ctx, "select 1").Scan(&one); err != nil {
		return err
	}
	if one != 1 {
		return context.Canceled
	}
	return nil
}

func TestPostgres(t *testing.T) {
	s := testenv.Postgres(t)
	tests := []struct {
		name    string
		dsn     string
		wantErr string
	}{
		{name: "superuser trust", dsn: s.DSN("postgres")},
		{name: "scram user", dsn: s.UserDSN(testenv.PostgresUser, testenv.PostgresPassword, "postgres")},
		{name: "md5 user", dsn: s.UserDSN(testenv.PostgresMD5User, testenv.PostgresPassword, "postgres")},
		{name: "wrong password", dsn: s.UserDSN(testenv.PostgresUser, "nope", "postgres"), wantErr: "password authentication failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := pgSelect1(tt.dsn, nil)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("select 1: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("select 1 = %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
	t.Run("auth methods", func(t *testing.T) {
		out, err := s.Psql("-c", "select rolname || ':' || left(rolpassword, 3) from pg_authid where rolname like 'sluice%' order by 1")
		if want := "sluice:SCR\nsluice_md5:md5"; err != nil || out != want {
			t.Fatalf("role password hashes = %q, %v; want %q", out, err, want)
		}
	})
	t.Run("CreateDB", func(t *testing.T) {
		dsn := s.CreateDB("app_1")
		if err := pgSelect1(dsn, nil); err != nil {
			t.Fatalf("select 1 in new db: %v", err)
		}
		if out, err := s.Psql("-c", "select current_setting('port')"); err != nil || out != strings.TrimPrefix(s.Addr(), "127.0.0.1:") {
			t.Fatalf("psql port = %q, %v; want %d", out, err, s.Port())
		}
	})
	t.Run("kill and restart", func(t *testing.T) {
		if _, err := s.Psql("-c", "create table kept(x int); insert into kept values (42)"); err != nil {
			t.Fatal(err)
		}
		s.Kill()
		refused(t, s.Addr())
		if err := pgSelect1(s.DSN("postgres"), nil); err == nil {
			t.Fatal("select 1 after Kill succeeded")
		}
		s.Restart()
		if out, err := s.Psql("-c", "select x from kept"); err != nil || out != "42" {
			t.Fatalf("after Restart: select x = %q, %v; want 42 (data persists)", out, err)
		}
	})
}

func TestPostgresSSL(t *testing.T) {
	s := testenv.Postgres(t, testenv.PostgresSSL())
	if !strings.Contains(s.DSN("postgres"), "sslmode=require") {
		t.Fatalf("DSN %q does not require ssl", s.DSN("postgres"))
	}
	// verify-full against the harness's certificate: the server must present it.
	if err := pgSelect1(strings.Replace(s.DSN("postgres"), "sslmode=require", "sslmode=verify-full", 1), s.TLSConfig()); err != nil {
		t.Fatalf("select 1 over verified TLS: %v", err)
	}
	out, err := s.Psql("-c", "select ssl from pg_stat_ssl where pid = pg_backend_pid()")
	if err != nil || out != "t" {
		t.Fatalf("pg_stat_ssl.ssl = %q, %v; want t", out, err)
	}
}

func TestSharedPostgres(t *testing.T) {
	a, b := testenv.SharedPostgres(t), testenv.SharedPostgres(t)
	if a.Addr() != b.Addr() {
		t.Fatalf("shared servers differ: %s, %s", a.Addr(), b.Addr())
	}
	if err := pgSelect1(a.DSN("postgres"), nil); err != nil {
		t.Fatal(err)
	}
}

// mysqlSelect1 opens dsn and runs select 1.
func mysqlSelect1(dsn string) error {
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	var one int
	if err := db.QueryRow("select 1").Scan(&one); err != nil {
		return err
	}
	if one != 1 {
		return fmt.Errorf("select 1 = %d", one)
	}
	return nil
}

func TestMariaDB(t *testing.T) {
	s := testenv.MariaDB(t)
	tests := []struct {
		name    string
		dsn     string
		wantErr string
	}{
		{name: "root empty password", dsn: s.DSN("")},
		{name: "password user", dsn: s.UserDSN(testenv.MariaDBUser, testenv.MariaDBPassword, "mysql")},
		{name: "wrong password", dsn: s.UserDSN(testenv.MariaDBUser, "nope", ""), wantErr: "Access denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := mysqlSelect1(tt.dsn)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("select 1: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("select 1 = %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
	t.Run("CLI and CreateDB", func(t *testing.T) {
		dsn := s.CreateDB("app_1")
		if err := mysqlSelect1(dsn); err != nil {
			t.Fatal(err)
		}
		out, err := s.CLI("-e", "select @@port, schema_name from information_schema.schemata where schema_name = 'app_1'")
		if want := fmt.Sprintf("%d\tapp_1", s.Port()); err != nil || out != want {
			t.Fatalf("mariadb -e = %q, %v; want %q", out, err, want)
		}
	})
	t.Run("kill and restart", func(t *testing.T) {
		if _, err := s.CLI("-e", "create database k; create table k.t (x int) engine=innodb; insert into k.t values (42)"); err != nil {
			t.Fatal(err)
		}
		s.Kill()
		refused(t, s.Addr())
		if err := mysqlSelect1(s.DSN("")); err == nil {
			t.Fatal("select 1 after Kill succeeded")
		}
		s.Restart()
		if out, err := s.CLI("-e", "select x from k.t"); err != nil || out != "42" {
			t.Fatalf("after Restart: select x = %q, %v; want 42", out, err)
		}
	})
}

func TestMariaDBTLS(t *testing.T) {
	s := testenv.MariaDB(t, testenv.MariaDBTLS())
	db, err := sql.Open("mysql", s.DSN(""))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var name, cipher string
	if err := db.QueryRow("show session status like 'Ssl_cipher'").Scan(&name, &cipher); err != nil || cipher == "" {
		t.Fatalf("Ssl_cipher = %q, %v; want a cipher (TLS on)", cipher, err)
	}
}

func TestSharedMariaDB(t *testing.T) {
	a, b := testenv.SharedMariaDB(t), testenv.SharedMariaDB(t)
	if a.Addr() != b.Addr() {
		t.Fatalf("shared servers differ: %s, %s", a.Addr(), b.Addr())
	}
	if err := mysqlSelect1(a.DSN("")); err != nil {
		t.Fatal(err)
	}
}
