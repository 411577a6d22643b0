package mysql

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	gm "github.com/go-mysql-org/go-mysql/mysql"

	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/stats"
)

// The sysbench captures are one oltp_read_only connection (4 transactions
// of BEGIN, 10 point selects, a 100-row range, SUM, ORDER BY, DISTINCT,
// COMMIT) between sysbench 1.0 and MariaDB, recorded chunk by chunk by a TCP
// relay in codec/mysql's capture format: with --db-ps-mode=auto (prepared
// statements, COM_STMT_EXECUTE) and =disable (COM_QUERY text).
const (
	sysbenchPS   = "../../codec/mysql/testdata/sysbench_ps.cap.gz"
	sysbenchText = "../../codec/mysql/testdata/sysbench_text.cap.gz"
)

// capRecord is one chunk as a peer wrote it.
type capRecord struct {
	server bool
	data   []byte
}

// exchange is a command and its response: one client chunk and the server
// chunks that answered it.
type exchange struct {
	shape  string // begin, commit, point, range, sum, order, distinct
	client []byte
	server [][]byte
}

// sysbenchCapture is a capture cut into its login (and prepares) and its
// steady state of exchanges.
type sysbenchCapture struct {
	setup []capRecord
	steps []exchange
}

func loadSysbench(tb testing.TB, path string) *sysbenchCapture {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		tb.Fatal(err)
	}
	recs := decodeCap(raw)
	sc := &sysbenchCapture{}
	var prepared []string // statement texts by id-1: MariaDB numbers them from 1
	steady := false
	for _, r := range recs {
		if !r.server && len(r.data) > 4 && r.data[3] == 0 {
			cmd, body := r.data[4], string(r.data[5:])
			switch {
			case cmd == gm.COM_QUIT, cmd == gm.COM_STMT_CLOSE:
				return sc.check(tb)
			case cmd == gm.COM_STMT_PREPARE:
				prepared = append(prepared, body)
			case cmd == gm.COM_STMT_EXECUTE:
				id := int(binary.LittleEndian.Uint32(r.data[5:]))
				if id < 1 || id > len(prepared) {
					tb.Fatalf("execute of unknown statement %d", id)
				}
				body, steady = prepared[id-1], true
			case cmd == gm.COM_QUERY:
				steady = true
			}
			if steady {
				sc.steps = append(sc.steps, exchange{shape: shapeOf(body), client: r.data})
				continue
			}
		}
		if steady && r.server {
			s := &sc.steps[len(sc.steps)-1]
			s.server = append(s.server, r.data)
			continue
		}
		if steady {
			tb.Fatalf("client chunk in the steady state that is not a command: %q", r.data)
		}
		sc.setup = append(sc.setup, r)
	}
	return sc.check(tb)
}

func (sc *sysbenchCapture) check(tb testing.TB) *sysbenchCapture {
	if len(sc.steps) != 64 {
		tb.Fatalf("capture has %d exchanges, want 4 transactions of 16", len(sc.steps))
	}
	return sc
}

// shapeOf names a sysbench statement.
func shapeOf(sql string) string {
	switch {
	case strings.HasPrefix(sql, "BEGIN"):
		return "begin"
	case strings.HasPrefix(sql, "COMMIT"):
		return "commit"
	case strings.Contains(sql, "SUM("):
		return "sum"
	case strings.Contains(sql, "DISTINCT"):
		return "distinct"
	case strings.Contains(sql, "ORDER BY"):
		return "order"
	case strings.Contains(sql, "BETWEEN"):
		return "range"
	}
	return "point"
}

// replayConn is the client side of a replay: Read serves the chunk put in
// next, once; Write discards what the client is sent.
type replayConn struct{ next []byte }

func (r *replayConn) Read(p []byte) (int, error) {
	if len(r.next) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.next)
	r.next = r.next[n:]
	return n, nil
}
func (r *replayConn) Write(p []byte) (int, error)      { return len(p), nil }
func (r *replayConn) Close() error                     { return nil }
func (r *replayConn) CloseWrite() error                { return nil }
func (r *replayConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (r *replayConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (r *replayConn) SetDeadline(time.Time) error      { return nil }
func (r *replayConn) SetReadDeadline(time.Time) error  { return nil }
func (r *replayConn) SetWriteDeadline(time.Time) error { return nil }

// replayer drives one observed connection through a capture.
type replayer struct {
	f   *Filter
	s   *filters.Session
	rc  *replayConn
	c   filters.Conn
	buf []byte
}

func newReplayer(tb testing.TB, sc *sysbenchCapture, gated bool) *replayer {
	tb.Helper()
	f, err := New(&Config{StatPrefix: "b", MaxSQLBytes: DefaultMaxSQLBytes}, &filters.Env{Stats: stats.New().Root()})
	if err != nil {
		tb.Fatal(err)
	}
	s := &filters.Session{}
	if gated {
		s.AddSQLGate(denyTable("orders"))
	}
	rp := &replayer{f: f, s: s, rc: &replayConn{}, buf: make([]byte, 32<<10)}
	rp.c, _ = f.Observe(s, rp.rc)
	for _, r := range sc.setup {
		rp.record(tb, r.server, r.data)
	}
	return rp
}

// record passes one chunk through the filter the way the terminal would.
func (rp *replayer) record(tb testing.TB, server bool, data []byte) {
	if server {
		if _, err := rp.c.Write(data); err != nil {
			tb.Fatal(err)
		}
		return
	}
	rp.rc.next = data
	for got := 0; got < len(data); {
		n, err := rp.c.Read(rp.buf)
		if err != nil {
			tb.Fatalf("read: %v", err)
		}
		if !bytes.Equal(rp.buf[:n], data[got:got+n]) {
			tb.Fatalf("the filter changed the client's bytes")
		}
		got += n
	}
}

// exchange replays one command and its response.
func (rp *replayer) exchange(tb testing.TB, e *exchange) {
	rp.record(tb, false, e.client)
	for _, s := range e.server {
		rp.record(tb, true, s)
	}
}
