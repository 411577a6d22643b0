package mysql

import (
	"slices"
	"testing"

	gm "github.com/go-mysql-org/go-mysql/mysql"
)

// TestGarbageAfterLogin: bytes that are no command are reported at once,
// whatever the chunking: a header with a sequence id other than 0 as a
// protocol error when the header is in (its announced payload may never
// come), an unknown command byte as a decode error; each once, and the
// session resynchronises on the next real command.
func TestGarbageAfterLogin(t *testing.T) {
	tests := []struct {
		name    string
		garbage []byte
		want    []string
	}{
		{"text", []byte("GARBAGE GARBAGE\r\n"),
			[]string{"protocol_error/0 mysql: protocol error (client, seq 66): command with a sequence id other than 0"}},
		{"random header, big length", []byte{0xde, 0xad, 0xbe, 0xef, 1, 2, 3},
			[]string{"protocol_error/0 mysql: protocol error (client, seq 239): command with a sequence id other than 0"}},
		{"unknown command", pkt(0, []byte{0xee, 1, 2}),
			[]string{"decode_error/0 mysql: decoding command (client, seq 0): unknown command 0xee"}},
		{"short statement command", pkt(0, []byte{gm.COM_STMT_EXECUTE, 1}),
			[]string{"decode_error/0 mysql: decoding stmt_execute (client, seq 0): payload too short"}},
	}
	for _, tc := range tests {
		for _, chunk := range []int{1, 2, 5, 1 << 10} {
			steps := handshake(baseCaps)
			for g := tc.garbage; len(g) > 0; {
				n := min(chunk, len(g))
				steps = append(steps, step{ClientToServer, g[:n]})
				g = g[n:]
			}
			got, _ := run(Config{}, steps)
			got = got[3:] // greeting, login, login OK
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s, chunk %d:\n got %q\nwant %q", tc.name, chunk, got, tc.want)
			}
		}
	}
	// After an unknown command and the server's ERR, the next command is
	// decoded again.
	steps := cat(handshake(baseCaps), []step{c(0, []byte{0xee}), sv(1, errPayload(1047, "Unknown command")),
		c(0, cmdPayload(gm.COM_PING, "")), sv(1, okPayload(0, 2))})
	got, _ := run(Config{}, steps)
	want := []string{"decode_error/0 mysql: decoding command (client, seq 0): unknown command 0xee", "command/0 ping", "ok/1 ping affected=0"}
	if !slices.Equal(got[3:], want) {
		t.Errorf("resync:\n got %q\nwant %q", got[3:], want)
	}
}
