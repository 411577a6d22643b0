package integration

import (
	"github.com/sluice-proxy/sluice/internal/poll"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/client"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// loginThenSend logs in through addr with go-mysql's client (a real
// handshake), writes raw bytes on the logged-in socket and returns the
// server's answer: one packet, header included.
func loginThenSend(t *testing.T, addr string, raw []byte) string {
	t.Helper()
	c, err := client.Connect(addr, "root", "", "")
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	defer c.Close()
	nc := c.Conn.Conn
	if _, err := nc.Write(raw); err != nil {
		t.Fatalf("write: %v", err)
	}
	nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	hdr := make([]byte, 4)
	if _, err := io.ReadFull(nc, hdr); err != nil {
		t.Fatalf("reading the answer to %q: %v", raw, err)
	}
	body := make([]byte, int(hdr[0])|int(hdr[1])<<8|int(hdr[2])<<16)
	if _, err := io.ReadFull(nc, body); err != nil {
		t.Fatalf("reading the answer to %q: %v", raw, err)
	}
	return string(body)
}

// TestMySQLGarbageAfterLogin (issue 12): connections that log in and then
// send garbage are counted, each once, with Envoy's meaning of the two
// counters: a header whose sequence id cannot start a command is an out of
// sequence message (protocol_errors; MariaDB answers "Got packets out of
// order" and closes), a command the decoder cannot read is a decoder error
// (decoder_errors; MariaDB answers "Unknown command" or "Malformed packet").
func TestMySQLGarbageAfterLogin(t *testing.T) {
	srv := testenv.MariaDB(t)
	s := sluicetest.Start(t, mysqlYAML(srv.Addr(), "", ""))
	cases := []struct {
		garbage []byte
		answer  string
	}{
		{[]byte("GARBAGE GARBAGE GARBAGE\r\n"), "Got packets out of order"},
		{[]byte{0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6}, "Got packets out of order"},
		{[]byte{3, 0, 0, 0, 0xee, 1, 2}, "Unknown command"},
		{[]byte{2, 0, 0, 0, 0x17, 1}, "Malformed"},
		{[]byte("\x01\x00\x00\x05\x0e"), "Got packets out of order"},
	}
	for _, tc := range cases {
		if got := loginThenSend(t, s.Addr("mysql"), tc.garbage); !strings.Contains(got, tc.answer) {
			t.Errorf("%q: the server answered %q, want %q", tc.garbage, got, tc.answer)
		}
	}
	poll.Eventually(t, 10*time.Second, func() bool { return s.Gauge("cluster.mariadb.upstream_cx_active") == 0 },
		"connections not done")
	wantCounters(t, s, map[string]uint64{
		"mysql.db.sessions":        5,
		"mysql.db.login_attempts":  5,
		"mysql.db.protocol_errors": 3,
		"mysql.db.decoder_errors":  2,
	})
}
