package mysql

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/stats"
)

// decodeCap reads codec/mysql's capture format (records of a direction
// byte, bit 0 set for the server, a 4-byte length and the bytes, in the
// order the observer saw them), tolerating a truncated last record.
func decodeCap(b []byte) []capRecord {
	var recs []capRecord
	for len(b) >= 5 {
		n := min(int(binary.BigEndian.Uint32(b[1:5])), len(b)-5)
		recs = append(recs, capRecord{server: b[0]&1 != 0, data: b[5 : 5+n]})
		b = b[5+n:]
	}
	return recs
}

// loginRecords is the real handshake every FuzzConn input starts from: the
// server's greeting, the client's HandshakeResponse and the server's OK.
const loginRecords = 3

// FuzzConn is the session-level fuzz target: after a real login (greeting,
// HandshakeResponse and OK captured from MariaDB 10.11), arbitrary records
// from either side go through the filter's Conn as the proxy drives it:
// client bytes through Read, server bytes through Write. It must never
// panic; without a gate it must be transparent (what it forwards each way is
// a prefix of what it got); with one, a DELETE on orders never reaches the
// server whole.
func FuzzConn(f *testing.F) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "codec", "mysql", "testdata", "queries.cap"))
	if err != nil {
		f.Fatal(err)
	}
	login := decodeCap(raw)[:loginRecords]
	caps, _ := filepath.Glob(filepath.Join("..", "..", "codec", "mysql", "testdata", "*.cap"))
	for _, path := range caps {
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		if len(b) > 8<<10 {
			continue
		}
		// The seed is the session after its login.
		off := 0
		for range loginRecords {
			off += 5 + int(binary.BigEndian.Uint32(b[off+1:off+5]))
		}
		f.Add(b[off:], false)
		f.Add(b[off:], true)
	}
	f.Fuzz(func(t *testing.T, tape []byte, gated bool) {
		fl, err := New(&Config{StatPrefix: "f", MaxSQLBytes: 256}, &filters.Env{Stats: stats.New().Root()})
		if err != nil {
			t.Fatal(err)
		}
		s := &filters.Session{}
		if gated {
			s.AddSQLGate(denyTable("orders"))
		}
		fc := &fakeConn{}
		c, err := fl.Observe(s, fc)
		if err != nil {
			t.Fatal(err)
		}
		var fromClient, fromServer, toServer []byte
		buf := make([]byte, 4096)
		for _, r := range append(append([]capRecord(nil), login...), decodeCap(tape)...) {
			if r.server {
				fromServer = append(fromServer, r.data...)
				if _, err := c.Write(r.data); err != nil {
					break
				}
				continue
			}
			fromClient = append(fromClient, r.data...)
			fc.chunks = append(fc.chunks, append([]byte(nil), r.data...))
			var rerr error
			for len(fc.chunks) > 0 && rerr == nil {
				var n int
				n, rerr = c.Read(buf)
				toServer = append(toServer, buf[:n]...)
			}
			if rerr != nil {
				break
			}
		}
		if !gated && !bytes.HasPrefix(fromClient, toServer) {
			t.Fatalf("forwarded bytes are not a prefix of the client's")
		}
		if !gated && !bytes.HasPrefix(fromServer, fc.sent.Bytes()) {
			t.Fatalf("bytes to the client are not a prefix of the server's")
		}
		if gated && bytes.Contains(toServer, query("DELETE FROM orders")) {
			t.Fatalf("the denied DELETE reached the server")
		}
	})
}
