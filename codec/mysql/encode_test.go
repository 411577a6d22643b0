package mysql

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	gm "github.com/go-mysql-org/go-mysql/mysql"
)

func TestAppendErr(t *testing.T) {
	tests := []struct {
		name  string
		seq   uint8
		code  uint16
		state string
		msg   string
		want  string // hex
	}{
		{name: "denied", seq: 1, code: 1142, state: "42000", msg: "denied",
			want: "0f0000" + "01" + "ff7604" + "23" + hex.EncodeToString([]byte("42000denied"))},
		{name: "bad state falls back to HY000", seq: 2, code: 1105, state: "X", msg: "",
			want: "090000" + "02" + "ff5104" + "23" + hex.EncodeToString([]byte("HY000"))},
	}
	for _, tt := range tests {
		if got := hex.EncodeToString(AppendErr(nil, tt.seq, tt.code, tt.state, tt.msg)); got != tt.want {
			t.Errorf("%s: got %s want %s", tt.name, got, tt.want)
		}
	}
	long := AppendErr([]byte("keep"), 1, 1, "HY000", strings.Repeat("é", 400))
	if !bytes.HasPrefix(long, []byte("keep")) || len(long)-4-headerLen-9 > MaxErrMsgLen {
		t.Errorf("long message not cut: %d bytes", len(long))
	}
}

func TestAppendOK(t *testing.T) {
	got := hex.EncodeToString(AppendOK(nil, 1, 300, 2, gm.SERVER_STATUS_AUTOCOMMIT, 1))
	if want := "0900000100fc2c0102020001 00"; got != strings.ReplaceAll(want, " ", "") {
		t.Errorf("got %s want %s", got, want)
	}
}

// TestDenyRoundTrip is how the filter answers a denied statement: it sends
// AppendErr with the command's sequence id plus one and feeds it to the
// Session as server bytes; the session stays usable.
func TestDenyRoundTrip(t *testing.T) {
	var events []string
	s := NewSession(Config{}, func(ev *Event) { events = append(events, short(ev)) })
	steps := cat(handshake(baseCaps), []step{
		c(0, cmdPayload(gm.COM_QUERY, "DROP TABLE t")),
		{ServerToClient, AppendErr(nil, 1, 1142, "42000", "DROP command denied")},
		c(0, cmdPayload(gm.COM_PING, "")),
		{ServerToClient, AppendOK(nil, 1, 0, 0, 2, 0)},
	})
	for _, st := range steps {
		s.Feed(st.dir, st.data)
	}
	want := []string{`command/0 query "DROP TABLE t"`, "err/1 1142 42000 DROP command denied",
		"command/0 ping", "ok/1 ping affected=0"}
	if len(events) != 7 || strings.Join(events[3:], "|") != strings.Join(want, "|") {
		t.Errorf("events %q want %q", events, want)
	}
}
