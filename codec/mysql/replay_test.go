package mysql

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.events and the fuzz seed corpus")

// render prints an event on one line, with the fields its kind uses.
func render(ev *Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s seq=%d [%d,%d)", ev.Dir, ev.Kind, ev.Seq, ev.Start, ev.End)
	f := func(format string, args ...any) { fmt.Fprintf(&b, " "+format, args...) }
	switch ev.Kind {
	case EventGreeting:
		f("version=%q conn_id=%d caps=%#x plugin=%q", ev.ServerVersion, ev.ConnID, ev.Capabilities, ev.AuthPlugin)
	case EventSSLRequest:
		f("caps=%#x", ev.Capabilities)
	case EventLogin:
		f("user=%q db=%q plugin=%q caps=%#x", ev.User, ev.DB, ev.AuthPlugin, ev.Capabilities)
	case EventAuthSwitch:
		f("plugin=%q", ev.AuthPlugin)
	case EventAuthMoreData:
		f("status=%d", ev.AuthStatus)
	case EventLoginFailed:
		f("code=%d state=%q msg=%q", ev.ErrCode, ev.SQLState, ev.ErrMsg)
	case EventErr:
		f("cmd=%s code=%d state=%q msg=%q", CommandName(ev.Command), ev.ErrCode, ev.SQLState, ev.ErrMsg)
	case EventCommand:
		f("cmd=%s sql=%q truncated=%t stmt=%d db=%q user=%q", CommandName(ev.Command), ev.SQL, ev.Truncated, ev.StmtID, ev.DB, ev.User)
	case EventOK:
		f("cmd=%s affected=%d last_id=%d status=%#x warnings=%d", CommandName(ev.Command), ev.AffectedRows, ev.LastInsertID, ev.Status, ev.Warnings)
	case EventResultSet:
		f("cmd=%s columns=%d rows=%d status=%#x", CommandName(ev.Command), ev.Columns, ev.Rows, ev.Status)
	case EventPrepareOK:
		f("stmt=%d params=%d columns=%d", ev.StmtID, ev.Params, ev.Columns)
	case EventLocalInfile:
		f("file_len=%d", len(ev.SQL))
	case EventDecodeError, EventProtocolError:
		f("err=%v", ev.Err)
	case EventStopped:
		f("reason=%q", ev.Reason)
	}
	return b.String()
}

// replay feeds records to a new Session, each record cut into pieces of at
// most chunk bytes (0: whole), and returns the rendered events.
func replay(recs []record, cfg Config, chunk int) []string {
	var out []string
	s := NewSession(cfg, func(ev *Event) { out = append(out, render(ev)) })
	for _, r := range recs {
		p := r.data
		for len(p) > 0 {
			n := len(p)
			if chunk > 0 {
				n = min(n, chunk)
			}
			s.Feed(r.dir, p[:n])
			p = p[n:]
		}
	}
	return out
}

// TestReplayCaptures decodes every recorded session, compares the events
// with testdata/<name>.events, and checks that chunking does not matter.
func TestReplayCaptures(t *testing.T) {
	caps, err := filepath.Glob("testdata/*.cap")
	if err != nil || len(caps) == 0 {
		t.Fatalf("no captures: %v", err)
	}
	for _, path := range caps {
		name := strings.TrimSuffix(filepath.Base(path), ".cap")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			recs := decodeRecords(raw)
			got := replay(recs, Config{}, 0)
			for _, line := range got {
				if strings.Contains(line, "_error") {
					t.Errorf("real traffic produced %s", line)
				}
			}
			text := strings.Join(got, "\n") + "\n"
			golden := strings.TrimSuffix(path, ".cap") + ".events"
			if *update {
				if err := os.WriteFile(golden, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if text != string(want) {
				t.Errorf("events differ from %s (run with -update to accept):\n%s", golden, text)
			}
			for _, chunk := range []int{1, 3, 7} {
				if byChunk := strings.Join(replay(recs, Config{}, chunk), "\n") + "\n"; byChunk != text {
					t.Errorf("chunk size %d changes the events:\n%s", chunk, byChunk)
				}
			}
		})
	}
}
