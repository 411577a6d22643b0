package mysql

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	driver "github.com/go-sql-driver/mysql"
)

// TestCapture records the sessions the replay tests decode. It needs a
// MariaDB reachable at -capture with a password-less root.
func TestCapture(t *testing.T) {
	if *captureAddr == "" {
		t.Skip("set -capture=host:port to record testdata/*.cap")
	}
	setupCapture(t)
	useDB := func(c *driver.Config) { c.DBName = "shop" }
	captureScenario(t, "queries", func(c *driver.Config) { c.DBName = "shop"; c.MultiStatements = true },
		func(db *sql.DB) error {
			for _, q := range []string{
				"CREATE TABLE IF NOT EXISTS orders (id INT PRIMARY KEY AUTO_INCREMENT, item VARCHAR(64), qty INT)",
				"INSERT INTO orders (item, qty) VALUES ('apple', 3), ('pear', 5)",
				"UPDATE orders SET qty = qty + 1 WHERE item = 'apple'",
				"SELECT id, item, qty FROM orders ORDER BY id",
				"SELECT 1; SELECT 2, 3",
				"DELETE FROM orders WHERE item = 'pear'",
				"SELEKT broken",
				"DROP TABLE orders",
			} {
				if strings.HasPrefix(q, "SELECT") {
					if err := drainQuery(db, q); err != nil {
						return err
					}
					continue
				}
				if _, err := db.Exec(q); err != nil && !strings.Contains(q, "SELEKT") {
					return fmt.Errorf("%s: %w", q, err)
				}
			}
			return db.Ping()
		})
	captureScenario(t, "prepared", useDB, func(db *sql.DB) error {
		if _, err := db.Exec("CREATE TABLE IF NOT EXISTS items (id INT PRIMARY KEY, name VARCHAR(32))"); err != nil {
			return err
		}
		st, err := db.Prepare("INSERT INTO items (id, name) VALUES (?, ?)")
		if err != nil {
			return err
		}
		for i := 1; i <= 3; i++ {
			if _, err := st.Exec(i, fmt.Sprintf("item-%d", i)); err != nil {
				return err
			}
		}
		st.Close()
		if err := drainQuery(db, "SELECT id, name FROM items WHERE id > ?", 1); err != nil {
			return err
		}
		_, err = db.Exec("DROP TABLE items")
		return err
	})
	captureScenario(t, "login_failed", func(c *driver.Config) { c.Passwd = "wrong" }, func(db *sql.DB) error {
		if err := db.Ping(); err == nil {
			return errors.New("login with a wrong password succeeded")
		}
		return nil
	})
	captureScenario(t, "auth_switch_ed25519", func(c *driver.Config) { c.User, c.Passwd = "ed", "secret" },
		func(db *sql.DB) error { return drainQuery(db, "SELECT CURRENT_USER()") })
	captureScenario(t, "large_result", useDB, func(db *sql.DB) error {
		return drainQuery(db, "SELECT seq, REPEAT('x', 40), seq * 2 FROM seq_1_to_5000")
	})
	captureScenario(t, "local_infile", func(c *driver.Config) { c.DBName = "shop"; c.AllowAllFiles = true },
		func(db *sql.DB) error {
			f := filepath.Join(t.TempDir(), "rows.csv")
			if err := os.WriteFile(f, []byte("1,a\n2,b\n3,c\n"), 0o644); err != nil {
				return err
			}
			if _, err := db.Exec("CREATE TABLE IF NOT EXISTS li (id INT, v VARCHAR(8))"); err != nil {
				return err
			}
			if _, err := db.Exec("LOAD DATA LOCAL INFILE '" + f + "' INTO TABLE li FIELDS TERMINATED BY ','"); err != nil {
				return err
			}
			_, err := db.Exec("DROP TABLE li")
			return err
		})
}

// setupCapture creates the database and the ed25519 user the scenarios use.
func setupCapture(t *testing.T) {
	t.Helper()
	cfg := driver.NewConfig()
	cfg.User, cfg.Net, cfg.Addr = "root", "tcp", *captureAddr
	conn, err := driver.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	for _, q := range []string{
		"CREATE DATABASE IF NOT EXISTS shop",
		"INSTALL SONAME 'auth_ed25519'",
		"CREATE OR REPLACE USER ed@'localhost' IDENTIFIED VIA ed25519 USING PASSWORD('secret')",
		"GRANT ALL ON shop.* TO ed@'localhost'",
	} {
		if _, err := db.Exec(q); err != nil && !strings.Contains(err.Error(), "already installed") {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// drainQuery runs a query and reads every row.
func drainQuery(db *sql.DB, q string, args ...any) error {
	rows, err := db.Query(q, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", q, err)
	}
	defer rows.Close()
	for {
		for rows.Next() {
		}
		if !rows.NextResultSet() {
			break
		}
	}
	return rows.Err()
}
