package mysql

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	gm "github.com/go-mysql-org/go-mysql/mysql"

	codec "github.com/sluice-proxy/sluice/codec/mysql"
	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/sqlmeta"
	"github.com/sluice-proxy/sluice/stats"
)

// fakeConn is a downstream connection: Read serves the client's bytes in
// the given chunks, Write collects what the client is sent.
type fakeConn struct {
	chunks [][]byte
	sent   bytes.Buffer
}

func (f *fakeConn) Read(p []byte) (int, error) {
	if len(f.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, f.chunks[0])
	if f.chunks[0] = f.chunks[0][n:]; len(f.chunks[0]) == 0 {
		f.chunks = f.chunks[1:]
	}
	return n, nil
}
func (f *fakeConn) Write(p []byte) (int, error)      { return f.sent.Write(p) }
func (f *fakeConn) Close() error                     { return nil }
func (f *fakeConn) CloseWrite() error                { return nil }
func (f *fakeConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (f *fakeConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (f *fakeConn) SetDeadline(time.Time) error      { return nil }
func (f *fakeConn) SetReadDeadline(time.Time) error  { return nil }
func (f *fakeConn) SetWriteDeadline(time.Time) error { return nil }

// denyTable refuses any statement touching table.
type denyTable string

func (d denyTable) CheckSQL(_ *filters.Session, stmts []sqlmeta.Statement) filters.SQLVerdict {
	for _, st := range stmts {
		if st.Has(string(d), sqlmeta.OpDelete) {
			return filters.SQLVerdict{Deny: true, Policy: "p-" + string(d)}
		}
	}
	return filters.SQLVerdict{}
}

func packet(seq byte, payload []byte) []byte {
	n := len(payload)
	return append([]byte{byte(n), byte(n >> 8), byte(n >> 16), seq}, payload...)
}

func greeting() []byte {
	caps := uint32(gm.CLIENT_PROTOCOL_41 | gm.CLIENT_SECURE_CONNECTION | gm.CLIENT_PLUGIN_AUTH | gm.CLIENT_CONNECT_WITH_DB)
	p := []byte{10}
	p = append(p, "5.5.5-10.11.0-MariaDB\x00"...)
	p = append(p, 1, 0, 0, 0)
	p = append(p, "abcdefgh"...)
	p = append(p, 0, byte(caps), byte(caps>>8), 8, 2, 0, byte(caps>>16), byte(caps>>24), 21)
	p = append(p, make([]byte, 10)...)
	p = append(p, "ijklmnopqrst\x00"...)
	p = append(p, "mysql_native_password\x00"...)
	return packet(0, p)
}

func login() []byte {
	caps := uint32(gm.CLIENT_PROTOCOL_41 | gm.CLIENT_SECURE_CONNECTION | gm.CLIENT_PLUGIN_AUTH | gm.CLIENT_CONNECT_WITH_DB)
	p := []byte{byte(caps), byte(caps >> 8), byte(caps >> 16), byte(caps >> 24), 0, 0, 0, 1, 8}
	p = append(p, make([]byte, 23)...)
	p = append(p, "root\x00"...)
	p = append(p, 0) // empty auth response
	p = append(p, "shop\x00"...)
	p = append(p, "mysql_native_password\x00"...)
	return packet(1, p)
}

func query(sql string) []byte { return packet(0, append([]byte{gm.COM_QUERY}, sql...)) }

// run feeds the server's greeting and login OK through Write, the client's
// login and queries through Read (cut into pieces of size chunk), and
// returns what reached the server and what the client was sent.
func run(t testing.TB, chunk int, queries ...string) (toServer []byte, toClient []byte, f *Filter) {
	up, down, f, _ := runWith(t, &Config{StatPrefix: "t", MaxSQLBytes: 4096}, 0, chunk, queries...)
	return up, down, f
}

// runWith is run with a config and a listener buffer limit (0: default); it
// also returns the error that ended the client stream (io.EOF normally).
func runWith(t testing.TB, cfg *Config, limit, chunk int, queries ...string) (toServer []byte, toClient []byte, f *Filter, end error) {
	f, _ = New(cfg, &filters.Env{Stats: stats.New().Root(), BufferLimit: limit})
	// Each message is cut into chunks on its own: a client waits for the
	// answer before its next command (pipelining is not modelled).
	msgs := [][]byte{login()}
	for _, q := range queries {
		msgs = append(msgs, query(q))
	}
	fc := &fakeConn{}
	for _, m := range msgs {
		for len(m) > 0 {
			n := min(chunk, len(m))
			fc.chunks = append(fc.chunks, m[:n])
			m = m[n:]
		}
	}
	s := &filters.Session{}
	s.AddSQLGate(denyTable("orders"))
	c, _ := f.Observe(s, fc)
	c.Write(greeting())
	// The login is answered as soon as it is read whole; then each query
	// that reaches the server is answered with OK.
	var up []byte
	buf := make([]byte, 4096)
	answered := 0
	for {
		n, err := c.Read(buf)
		up = append(up, buf[:n]...)
		for {
			msgs := splitPackets(up)
			if len(msgs) <= answered {
				break
			}
			c.Write(codec.AppendOK(nil, msgs[answered][3]+1, 0, 0, gm.SERVER_STATUS_AUTOCOMMIT, 0))
			answered++
		}
		if err != nil {
			end = err
			break
		}
	}
	return up, fc.sent.Bytes(), f, end
}

// splitPackets cuts complete packets.
func splitPackets(b []byte) [][]byte {
	var out [][]byte
	for len(b) >= 4 {
		n := 4 + (int(b[0]) | int(b[1])<<8 | int(b[2])<<16)
		if len(b) < n {
			break
		}
		out = append(out, b[:n])
		b = b[n:]
	}
	return out
}

// TestDenyPath: a denied DELETE never reaches the server and is answered
// with ERR 1142 naming the policy, and the next statement goes through,
// whatever the read chunking.
func TestDenyPath(t *testing.T) {
	for _, chunk := range []int{1, 3, 64, 4096} {
		up, down, f := run(t, chunk, "SELECT 1", "DELETE FROM orders", "SELECT * FROM orders")
		if bytes.Contains(up, []byte("DELETE")) {
			t.Fatalf("chunk %d: the denied DELETE reached the server", chunk)
		}
		if !bytes.Contains(up, []byte("SELECT * FROM orders")) || !bytes.Contains(up, []byte("SELECT 1")) {
			t.Fatalf("chunk %d: allowed statements missing upstream: %q", chunk, up)
		}
		i := bytes.IndexByte(down, gm.ERR_HEADER)
		if i < 4 || down[i-1] != 1 || !strings.Contains(string(down[i:]), "p-orders") ||
			string(down[i+1:i+3]) != "\x76\x04" {
			t.Fatalf("chunk %d: no ERR 1142 with seq 1 naming the policy in %q", chunk, down)
		}
		if got := f.stats.StatementsDenied.Value(); got != 1 {
			t.Fatalf("chunk %d: statements_denied = %d", chunk, got)
		}
		if f.stats.ProtocolErrors.Value() != 0 || f.stats.DecoderErrors.Value() != 0 || f.stats.QueriesParsed.Value() != 3 {
			t.Fatalf("chunk %d: protocol %d decoder %d parsed %d", chunk, f.stats.ProtocolErrors.Value(),
				f.stats.DecoderErrors.Value(), f.stats.QueriesParsed.Value())
		}
	}
}

// TestHoldBoundedByBufferLimit: a statement is held for the gates only up
// to the listener's per_connection_buffer_limit_bytes; a longer one is
// forwarded as it comes and a denial at its end closes the connection.
func TestHoldBoundedByBufferLimit(t *testing.T) {
	long := "DELETE FROM orders WHERE note = '" + strings.Repeat("n", 200<<10) + "'"
	for _, tc := range []struct {
		name      string
		limit     int
		wantClose bool
	}{
		{"held under the default limit", 0, false},
		{"streamed past a 64 KiB limit", 64 << 10, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &Config{StatPrefix: "t", MaxSQLBytes: 1 << 20}
			up, down, _, end := runWith(t, cfg, tc.limit, 32<<10, long)
			if closed := errors.Is(end, errDenyClose); closed != tc.wantClose {
				t.Fatalf("stream ended with %v; want a denial close %v", end, tc.wantClose)
			}
			if !tc.wantClose && (bytes.Contains(up, []byte("DELETE")) || !bytes.Contains(down, []byte("p-orders"))) {
				t.Fatalf("held statement: reached the server %v, denial answered %v",
					bytes.Contains(up, []byte("DELETE")), bytes.Contains(down, []byte("p-orders")))
			}
		})
	}
}

// FuzzDenyPath: any client byte stream after a valid login never panics,
// and a DELETE on orders never reaches the server whole.
func FuzzDenyPath(f *testing.F) {
	f.Add([]byte("DELETE FROM orders"), 5)
	f.Add([]byte("SELECT 1; DELETE FROM orders"), 1)
	f.Fuzz(func(t *testing.T, sql []byte, chunk int) {
		if chunk < 1 || chunk > 1<<16 || len(sql) > 1<<15 {
			return
		}
		up, _, _ := run(t, chunk, string(sql), "DELETE FROM orders")
		if bytes.Contains(up, query("DELETE FROM orders")) {
			t.Fatalf("the denied DELETE reached the server")
		}
	})
}

func BenchmarkQueryPath(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		run(b, 4096, "SELECT c FROM sbtest1 WHERE id = 42", "SELECT c FROM sbtest2 WHERE id BETWEEN 1 AND 100 ORDER BY c")
	}
}
