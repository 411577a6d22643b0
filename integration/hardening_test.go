package integration

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
	"github.com/sluice-proxy/sluice/proxy"
)

// TestPostgresFiveByteMessages is the hardening issue's crash: after a
// normal startup packet, FunctionCall or CopyFail with an empty body killed
// the process (pgproto3 indexed past the body), no login needed, in both I/O
// modes. Now the connection ends and the listener keeps serving.
func TestPostgresFiveByteMessages(t *testing.T) {
	pgA := testenv.Postgres(t)
	for _, mode := range []struct {
		name  string
		loops int
	}{{"loops", -1}, {"goroutines", 0}} {
		t.Run(mode.name, func(t *testing.T) {
			s := sluicetest.StartWith(t, pgYAML("", pgCluster("pg_a", pgA.Addr())), proxy.IOLoops(mode.loops))
			for _, msg := range []string{"F\x00\x00\x00\x04", "f\x00\x00\x00\x04"} {
				c, err := net.Dial("tcp", s.Addr("pg"))
				if err != nil {
					t.Fatal(err)
				}
				c.Write(startupPacket(testenv.PostgresUser, "postgres"))
				c.Write([]byte(msg))
				c.SetReadDeadline(time.Now().Add(10 * time.Second))
				if _, err := io.Copy(io.Discard, c); err != nil && isTimeout(err) {
					t.Fatalf("%q: the connection stayed open", msg)
				}
				c.Close()
			}
			db := pgConnect(t, s.Addr("pg"), testenv.PostgresUser, "postgres", "disable")
			var one int
			if err := db.QueryRow(context.Background(), "SELECT 1").Scan(&one); err != nil || one != 1 {
				t.Fatalf("after the bad messages: %d, %v", one, err)
			}
			db.Close(context.Background())
			if g := s.Server.Loops(); (g != nil && g.Started() > 0) != (mode.loops != 0) {
				t.Errorf("event loops used: %v, want %v", g != nil && g.Started() > 0, mode.loops != 0)
			}
			if n := s.Counter("server.contained_panics"); n != 0 {
				t.Errorf("server.contained_panics = %d: the codec panicked", n)
			}
		})
	}
}

// startupPacket is a protocol 3.0 StartupMessage.
func startupPacket(user, db string) []byte {
	body := binary.BigEndian.AppendUint32(nil, 3<<16)
	for _, kv := range [][2]string{{"user", user}, {"database", db}} {
		body = append(append(append(append(body, kv[0]...), 0), kv[1]...), 0)
	}
	body = append(body, 0)
	return append(binary.BigEndian.AppendUint32(nil, uint32(4+len(body))), body...)
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}
