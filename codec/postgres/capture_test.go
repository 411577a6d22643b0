package postgres

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// capture is the address of a real Postgres server (trust for user
// postgres, SCRAM for user scram, MD5 for user md5u, password "secret",
// database shop). With it, TestCapture records real sessions through a relay
// into testdata/sessions, replacing the committed ones:
//
//	go test ./codec/postgres -run TestCapture -capture 127.0.0.1:55432
var capture = flag.String("capture", "", "record sessions from the Postgres server at this address")

// recorder is a TCP relay that keeps each connection's two streams.
type recorder struct {
	ln       net.Listener
	upstream string
	mu       sync.Mutex
	conns    []*recorded
	wg       sync.WaitGroup
}

// recorded is one relayed connection: its chunks in the order the relay
// read them, which is the order the protocol needs (a client answers only
// what it has received).
type recorded struct {
	mu   sync.Mutex
	tape []byte
}

// Write appends a chunk of one direction to the tape.
func (r *recorded) add(dir Direction, p []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tape = appendRecord(r.tape, dir, p)
}

// tapWriter records what passes through it.
type tapWriter struct {
	rec *recorded
	dir Direction
}

func (w tapWriter) Write(p []byte) (int, error) {
	w.rec.add(w.dir, p)
	return len(p), nil
}

func (r *recorder) serve() {
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		u, err := net.Dial("tcp", r.upstream)
		if err != nil {
			c.Close()
			continue
		}
		rec := new(recorded)
		r.mu.Lock()
		r.conns = append(r.conns, rec)
		r.mu.Unlock()
		r.wg.Add(2)
		go r.pipe(u, c, tapWriter{rec, Frontend})
		go r.pipe(c, u, tapWriter{rec, Backend})
	}
}

func (r *recorder) pipe(dst, src net.Conn, tape io.Writer) {
	defer r.wg.Done()
	io.Copy(io.MultiWriter(tape, dst), src)
	dst.(*net.TCPConn).CloseWrite()
}

// session runs fn against the relay and saves each connection as
// testdata/sessions/<name>[-i].tape.
func captureSession(t *testing.T, name, connArgs string, fn func(ctx context.Context, c *pgconn.PgConn) error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{ln: ln, upstream: *capture}
	go r.serve()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	c, err := pgconn.Connect(ctx, fmt.Sprintf("host=%s port=%s dbname=shop %s", host, port, connArgs))
	if err != nil {
		t.Fatalf("%s: connect: %v", name, err)
	}
	if err := fn(ctx, c); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	c.Close(ctx)
	ln.Close()
	r.wg.Wait()
	for i, rec := range r.conns {
		base := name
		if i > 0 {
			base = fmt.Sprintf("%s-%d", name, i)
		}
		if err := os.WriteFile(filepath.Join("testdata", "sessions", base+".tape"), rec.tape, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// execAll runs a simple-protocol query string and drains every result; a
// server error is expected in some scenarios and is not a failure.
func execAll(ctx context.Context, c *pgconn.PgConn, sql string) error {
	_, err := c.Exec(ctx, sql).ReadAll()
	if _, ok := err.(*pgconn.PgError); ok {
		return nil
	}
	return err
}

func TestCapture(t *testing.T) {
	if *capture == "" {
		t.Skip("no -capture server")
	}
	captureSession(t, "simple_scram", "user=scram password=secret sslmode=prefer", func(ctx context.Context, c *pgconn.PgConn) error {
		for _, q := range []string{
			"DROP TABLE IF EXISTS orders; CREATE TABLE orders (id serial PRIMARY KEY, item text, qty int)",
			"INSERT INTO orders (item, qty) VALUES ('apple', 3), ('pear', 5)",
			"SELECT id, item, qty FROM orders ORDER BY id",
			"BEGIN; UPDATE orders SET qty = qty + 1 WHERE item = 'apple'; COMMIT",
			"BEGIN; DELETE FROM orders WHERE id = 2; ROLLBACK",
			"SELECT 1/0",
			"DO $$ BEGIN RAISE NOTICE 'hello %', 42; RAISE WARNING 'careful'; END $$",
			"LISTEN chan; NOTIFY chan, 'payload'; UNLISTEN chan",
			"",
			"SET application_name = 'capture'; SHOW server_version_num",
			"BEGIN; SELECT nosuchcol FROM orders; ROLLBACK",
		} {
			if err := execAll(ctx, c, q); err != nil {
				return err
			}
		}
		return nil
	})
	captureSession(t, "extended_md5", "user=md5u password=secret sslmode=disable", func(ctx context.Context, c *pgconn.PgConn) error {
		if err := execAll(ctx, c, "CREATE TEMP TABLE kv (k text PRIMARY KEY, v bytea)"); err != nil {
			return err
		}
		sd, err := c.Prepare(ctx, "put", "INSERT INTO kv (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v", nil)
		if err != nil {
			return err
		}
		for i := range 5 {
			rr := c.ExecStatement(ctx, sd, [][]byte{[]byte(fmt.Sprint("key", i)), bytes.Repeat([]byte{byte(i)}, 100)}, []int16{0, 1}, nil)
			if _, err := rr.Close(); err != nil {
				return err
			}
		}
		rr := c.ExecParams(ctx, "SELECT k, length(v) FROM kv WHERE k LIKE $1", [][]byte{[]byte("key%")}, nil, nil, []int16{1})
		if _, err := rr.Close(); err != nil {
			return err
		}
		rr = c.ExecParams(ctx, "SELECT nope FROM kv", nil, nil, nil, nil)
		rr.Close()
		return execAll(ctx, c, "DEALLOCATE ALL")
	})
	captureSession(t, "copy_trust", "user=postgres sslmode=disable", func(ctx context.Context, c *pgconn.PgConn) error {
		if err := execAll(ctx, c, "CREATE TEMP TABLE t (id int, body text)"); err != nil {
			return err
		}
		var in strings.Builder
		for i := range 2000 {
			fmt.Fprintf(&in, "%d\trow number %d with some text\n", i, i)
		}
		if _, err := c.CopyFrom(ctx, strings.NewReader(in.String()), "COPY t FROM STDIN"); err != nil {
			return err
		}
		if _, err := c.CopyTo(ctx, io.Discard, "COPY (SELECT * FROM t WHERE id < 500) TO STDOUT"); err != nil {
			return err
		}
		if _, err := c.CopyFrom(ctx, strings.NewReader("bad\tline\n"), "COPY t FROM STDIN"); err == nil {
			return fmt.Errorf("bad COPY accepted")
		}
		return execAll(ctx, c, "SELECT g, repeat('x', 40000) FROM generate_series(1, 8) g")
	})
	captureSession(t, "psql_prefer", "user=postgres sslmode=disable", func(ctx context.Context, c *pgconn.PgConn) error {
		// libpq, unlike pgx, goes on in clear text on the connection whose
		// SSLRequest was refused.
		cfg := c.Conn().RemoteAddr().(*net.TCPAddr)
		cmd := exec.CommandContext(ctx, "psql", "-X", "-q", "-h", cfg.IP.String(), "-p", fmt.Sprint(cfg.Port),
			"-U", "scram", "-d", "shop", "-c", "SELECT count(*) FROM orders", "-c", "SELECT * FROM no_such_table")
		cmd.Env = append(os.Environ(), "PGPASSWORD=secret", "PGSSLMODE=prefer", "PGGSSENCMODE=disable")
		out, err := cmd.CombinedOutput()
		t.Logf("psql: %s", out)
		if _, ok := err.(*exec.ExitError); ok {
			return nil
		}
		return err
	})
	captureSession(t, "cancel", "user=postgres sslmode=disable", func(ctx context.Context, c *pgconn.PgConn) error {
		done := make(chan error, 1)
		go func() { done <- execAll(ctx, c, "SELECT pg_sleep(3)") }()
		if err := waitSleeping(ctx, c.PID()); err != nil {
			return err
		}
		if err := c.CancelRequest(ctx); err != nil {
			return err
		}
		return <-done
	})
}

// waitSleeping polls the server, on a connection of its own that is not
// recorded, until backend pid is inside pg_sleep, so that the cancel lands
// on a running query.
func waitSleeping(ctx context.Context, pid uint32) error {
	host, port, _ := net.SplitHostPort(*capture)
	mon, err := pgconn.Connect(ctx, fmt.Sprintf("host=%s port=%s dbname=shop user=postgres sslmode=disable", host, port))
	if err != nil {
		return err
	}
	defer mon.Close(ctx)
	q := fmt.Sprintf("SELECT 1 FROM pg_stat_activity WHERE pid = %d AND wait_event = 'PgSleep'", pid)
	for {
		res, err := mon.Exec(ctx, q).ReadAll()
		if err != nil {
			return err
		}
		if len(res) > 0 && len(res[0].Rows) > 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond): // a poll interval
		}
	}
}
