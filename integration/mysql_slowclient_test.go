package integration

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// readUntilClosed reads from c until sluice closes it, and fails the test
// if that takes longer than limit.
func readUntilClosed(t *testing.T, c net.Conn, limit time.Duration) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(limit))
	_, err := io.Copy(io.Discard, c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("the slow client was still connected after %v", limit)
	}
}

// slowModes are the two I/O paths a mysql_proxy connection may take: an
// event loop (nothing rewrites the stream) and a goroutine per direction
// (a SQL gate holds statements).
var slowModes = []struct{ name, filters string }{
	{"event loop", ""},
	{"goroutines, rbac gate", rbacDenyOrdersDelete},
}

// TestMySQLSlowHandshake (issue 12): clients that connect and then send
// nothing, or drip the first byte of their HandshakeResponse, are closed at
// handshake_timeout and counted; a client that logged in meanwhile is not
// touched.
func TestMySQLSlowHandshake(t *testing.T) {
	srv := testenv.MariaDB(t)
	for _, m := range slowModes {
		t.Run(m.name, func(t *testing.T) { testSlowHandshake(t, srv, m.filters) })
	}
}

func testSlowHandshake(t *testing.T, srv *testenv.MariaDBServer, filters string) {
	s := sluicetest.Start(t, mysqlYAML(srv.Addr(), ", handshake_timeout: 1s", filters))
	good, err := client.Connect(s.Addr("mysql"), "root", "", "")
	if err != nil {
		t.Fatal(err)
	}
	defer good.Close()
	for _, drip := range [][]byte{nil, {0x55}} {
		c, err := net.Dial("tcp", s.Addr("mysql"))
		if err != nil {
			t.Fatal(err)
		}
		hdr := make([]byte, 4)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadFull(c, hdr); err != nil { // the greeting arrives
			t.Fatalf("greeting: %v", err)
		}
		if drip != nil {
			c.Write(drip)
		}
		readUntilClosed(t, c, 10*time.Second)
		c.Close()
	}
	s.WaitCounter("mysql.db.handshake_timeout", 2, 5*time.Second)
	if err := good.Ping(); err != nil {
		t.Fatalf("the logged-in client after the timeouts: %v", err)
	}
	wantCounters(t, s, map[string]uint64{
		"mysql.db.handshake_timeout": 2,
		"mysql.db.request_timeout":   0,
		"mysql.db.login_attempts":    1,
		"mysql.db.decoder_errors":    0,
		"mysql.db.protocol_errors":   0,
	})
}

// TestMySQLSlowRequest (issue 12): logged-in clients that leave a packet
// unfinished (part of a header, or a header and part of its payload) are
// closed at request_timeout and counted; an idle logged-in client is not.
func TestMySQLSlowRequest(t *testing.T) {
	srv := testenv.MariaDB(t)
	for _, m := range slowModes {
		t.Run(m.name, func(t *testing.T) { testSlowRequest(t, srv, m.filters) })
	}
}

func testSlowRequest(t *testing.T, srv *testenv.MariaDBServer, filters string) {
	s := sluicetest.Start(t, mysqlYAML(srv.Addr(), ", request_timeout: 300ms", filters))
	idle, err := client.Connect(s.Addr("mysql"), "root", "", "")
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	for _, partial := range [][]byte{
		{10, 0},                       // half a header
		{10, 0, 0, 0, 0x03, 'S', 'E'}, // COM_QUERY with 3 of 10 bytes
	} {
		c, err := client.Connect(s.Addr("mysql"), "root", "", "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Conn.Conn.Write(partial); err != nil {
			t.Fatal(err)
		}
		readUntilClosed(t, c.Conn.Conn, 10*time.Second)
		c.Close()
	}
	s.WaitCounter("mysql.db.request_timeout", 2, 5*time.Second)
	if err := idle.Ping(); err != nil {
		t.Fatalf("the idle client after the timeouts: %v", err)
	}
	wantCounters(t, s, map[string]uint64{
		"mysql.db.request_timeout":   2,
		"mysql.db.handshake_timeout": 0,
		"mysql.db.login_attempts":    3,
		"mysql.db.decoder_errors":    0,
		"mysql.db.protocol_errors":   0,
	})
}
