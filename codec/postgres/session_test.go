package postgres

import (
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"
)

var update = flag.Bool("update", false, "rewrite golden files")

// describe renders a message as one golden-file line.
func describe(m *Message) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s len=%d", m.Kind, m.Length)
	if m.Type != 0 && m.Length == 0 {
		fmt.Fprintf(&b, " answer=%c", m.Type)
	}
	if m.SQL != nil || m.Kind == KindQuery {
		fmt.Fprintf(&b, " sql=%q", m.SQL)
	}
	if m.Name != nil {
		fmt.Fprintf(&b, " name=%q", m.Name)
	}
	if m.Truncated {
		b.WriteString(" truncated")
	}
	if sev, code, msg, ok := m.ErrorFields(); ok {
		fmt.Fprintf(&b, " %s %s %q", sev, code, msg)
	}
	if t := m.Tag(); t != nil {
		fmt.Fprintf(&b, " tag=%q", t)
	}
	if s := m.TxStatus(); s != 0 {
		fmt.Fprintf(&b, " tx=%c", s)
	}
	switch body := m.Body.(type) {
	case *pgproto3.StartupMessage:
		keys := make([]string, 0, len(body.Parameters))
		for k := range body.Parameters {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, " %s=%q", k, body.Parameters[k])
		}
	case *pgproto3.ParameterStatus:
		fmt.Fprintf(&b, " %s=%q", body.Name, body.Value)
	case *pgproto3.AuthenticationSASL:
		fmt.Fprintf(&b, " mechanisms=%q", body.AuthMechanisms)
	case *pgproto3.SASLInitialResponse:
		fmt.Fprintf(&b, " mechanism=%q", body.AuthMechanism)
	case *pgproto3.NotificationResponse:
		fmt.Fprintf(&b, " channel=%q payload=%q", body.Channel, body.Payload)
	case *pgproto3.RowDescription:
		fmt.Fprintf(&b, " fields=%d", len(body.Fields))
	}
	if m.Err != nil {
		fmt.Fprintf(&b, " err=%q", m.Err)
	}
	return b.String()
}

// Tape format: records of a direction byte (0 frontend, 1 backend), a
// big-endian uint32 length and that many bytes, in the order the relay read
// them.
func appendRecord(tape []byte, dir Direction, p []byte) []byte {
	tape = append(tape, byte(dir))
	tape = binary.BigEndian.AppendUint32(tape, uint32(len(p)))
	return append(tape, p...)
}

// record is one chunk of a tape.
type record struct {
	dir Direction
	b   []byte
}

// readTape splits a tape into its records; a short tail is dropped.
func readTape(tape []byte) []record {
	var out []record
	for len(tape) >= 5 {
		n := int(binary.BigEndian.Uint32(tape[1:]))
		if n > len(tape)-5 {
			break
		}
		out = append(out, record{Direction(tape[0] & 1), tape[5 : 5+n]})
		tape = tape[5+n:]
	}
	return out
}

// decodeTape feeds a session's records to a Pair in pieces of at most chunk
// bytes (0: as recorded), checking the retained memory after every message,
// and renders every message.
func decodeTape(t testing.TB, recs []record, chunk int, cfg Config) (string, error) {
	p := NewPair(cfg)
	var b strings.Builder
	for _, r := range recs {
		d, prefix := p.Frontend, "fe "
		if r.dir == Backend {
			d, prefix = p.Backend, "be "
		}
		for _, piece := range chunked(r.b, chunk) {
			err := d.Feed(piece, func(m *Message) error {
				b.WriteString(prefix + describe(m) + "\n")
				return nil
			})
			if d.Retained() > cfg.Bound() {
				t.Fatalf("retained %d > bound %d", d.Retained(), cfg.Bound())
			}
			if err != nil {
				return b.String(), err
			}
		}
	}
	return b.String(), nil
}

// chunked splits b into pieces of n bytes (all of b when n is 0).
func chunked(b []byte, n int) [][]byte {
	if n <= 0 || n >= len(b) {
		return [][]byte{b}
	}
	var out [][]byte
	for len(b) > 0 {
		k := min(n, len(b))
		out = append(out, b[:k])
		b = b[k:]
	}
	return out
}

// TestSessions decodes every recorded session and compares the transcript
// with its golden file; every chunking must give the same transcript.
func TestSessions(t *testing.T) {
	tapes, _ := filepath.Glob("testdata/sessions/*.tape")
	if len(tapes) == 0 {
		t.Fatal("no recorded sessions")
	}
	for _, path := range tapes {
		base := strings.TrimSuffix(path, ".tape")
		t.Run(filepath.Base(base), func(t *testing.T) {
			tape, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			recs := readTape(tape)
			cfg := Config{MaxSQL: 40, MaxBody: 1024}
			want, err := decodeTape(t, recs, 0, cfg)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			golden := base + ".golden"
			if *update {
				writeSeeds(t, filepath.Base(base), recs)
				if err := os.WriteFile(golden, []byte(want), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			g, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if string(g) != want {
				t.Errorf("transcript differs from %s:\n%s", golden, want)
			}
			for _, chunk := range []int{1, 3, 7, 64, 1000} {
				got, err := decodeTape(t, recs, chunk, cfg)
				if err != nil || got != want {
					t.Errorf("chunk %d: err %v, transcript differs:\n%s", chunk, err, got)
				}
			}
		})
	}
}
