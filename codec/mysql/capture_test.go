package mysql

import (
	"database/sql"
	"encoding/binary"
	"flag"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"

	driver "github.com/go-sql-driver/mysql"
)

// The capture files under testdata/*.cap are real sessions of
// go-sql-driver/mysql against MariaDB 10.11, recorded by a TCP relay:
//
//	go test ./codec/mysql -run TestCapture -capture=127.0.0.1:3306
//
// A file is a list of records: one direction byte (0 client, 1 server), a
// 4-byte big-endian length and the chunk exactly as read from the socket.
var captureAddr = flag.String("capture", "", "record testdata/*.cap through a relay to this MariaDB (root, no password)")

type record struct {
	dir  Direction
	data []byte
}

func encodeRecords(recs []record) []byte {
	var out []byte
	for _, r := range recs {
		out = append(out, byte(r.dir))
		out = binary.BigEndian.AppendUint32(out, uint32(len(r.data)))
		out = append(out, r.data...)
	}
	return out
}

// decodeRecords parses the record format; a short tail ends the list (so
// fuzz inputs are always usable).
func decodeRecords(b []byte) []record {
	var recs []record
	for len(b) >= 5 {
		n := int(binary.BigEndian.Uint32(b[1:5]))
		if n > len(b)-5 {
			n = len(b) - 5
		}
		recs = append(recs, record{dir: Direction(b[0] & 1), data: b[5 : 5+n]})
		b = b[5+n:]
	}
	return recs
}

// relay forwards one connection to upstream and records every chunk, client
// chunks before they reach the server and server chunks before they reach
// the client, so the record order is one the observer could see.
type relay struct {
	ln       net.Listener
	upstream string
	mu       sync.Mutex
	recs     []record
	wg       sync.WaitGroup
}

func newRelay(t *testing.T, upstream string) *relay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &relay{ln: ln, upstream: upstream}
	go r.serve()
	return r
}

func (r *relay) serve() {
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
		r.wg.Add(2)
		go r.pipe(c, u, ClientToServer)
		go r.pipe(u, c, ServerToClient)
	}
}

func (r *relay) pipe(from, to net.Conn, dir Direction) {
	defer r.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := from.Read(buf)
		if n > 0 {
			r.mu.Lock()
			r.recs = append(r.recs, record{dir: dir, data: append([]byte(nil), buf[:n]...)})
			_, werr := to.Write(buf[:n])
			r.mu.Unlock()
			if werr != nil {
				err = werr
			}
		}
		if err != nil {
			from.Close()
			to.Close()
			return
		}
	}
}

// close stops the relay, waits for its connections and returns the records.
func (r *relay) close() []record {
	r.ln.Close()
	r.wg.Wait()
	return r.recs
}

// captureScenario runs fn against a fresh relay and writes testdata/name.cap.
func captureScenario(t *testing.T, name string, setup func(*driver.Config), fn func(db *sql.DB) error) {
	t.Helper()
	rl := newRelay(t, *captureAddr)
	cfg := driver.NewConfig()
	cfg.User, cfg.Net, cfg.Addr = "root", "tcp", rl.ln.Addr().String()
	if setup != nil {
		setup(cfg)
	}
	conn, err := driver.NewConnector(cfg)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(conn)
	db.SetMaxOpenConns(1)
	ferr := fn(db)
	db.Close()
	recs := rl.close()
	if ferr != nil {
		t.Fatalf("%s: %v", name, ferr)
	}
	if err := os.WriteFile(filepath.Join("testdata", name+".cap"), encodeRecords(recs), 0o644); err != nil {
		t.Fatal(err)
	}
}
