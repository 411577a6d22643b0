package postgres

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzCfg is small so that fuzzing reaches the truncation and skip paths.
var fuzzCfg = Config{MaxSQL: 16, MaxBody: 64, MaxMessageLen: 1 << 20}

// transcript feeds recs to a fresh Pair in pieces of at most chunk bytes and
// renders the messages and the error; it fails t when a decoder holds more
// than the bound or an emitted message breaks a documented limit.
func transcript(t *testing.T, recs []record, chunk int) string {
	p := NewPair(fuzzCfg)
	var b strings.Builder
	for _, r := range recs {
		d := p.Frontend
		if r.dir == Backend {
			d = p.Backend
		}
		for _, piece := range chunked(r.b, chunk) {
			err := d.Feed(piece, func(m *Message) error {
				if len(m.SQL) > fuzzCfg.MaxSQL || len(m.Name) > maxStmtName {
					t.Fatalf("SQL %d / name %d bytes over the limits", len(m.SQL), len(m.Name))
				}
				if m.Length != 0 && (m.Length < 4 || m.Length > fuzzCfg.MaxMessageLen) {
					t.Fatalf("emitted length %d", m.Length)
				}
				fmt.Fprintf(&b, "%d %s\n", r.dir, describe(m))
				return nil
			})
			if d.Retained() > fuzzCfg.Bound() {
				t.Fatalf("retained %d > bound %d", d.Retained(), fuzzCfg.Bound())
			}
			if err != nil {
				fmt.Fprintf(&b, "%d error %v\n", r.dir, err)
				return b.String()
			}
		}
	}
	return b.String()
}

// checkChunking asserts that decoding does not depend on how the stream is
// cut into reads.
func checkChunking(t *testing.T, recs []record, chunk int) {
	whole := transcript(t, recs, 0)
	if got := transcript(t, recs, chunk); got != whole {
		t.Fatalf("chunk %d:\n%s\nwhole:\n%s", chunk, got, whole)
	}
}

// FuzzFrontend decodes arbitrary client bytes.
func FuzzFrontend(f *testing.F) {
	f.Add([]byte("\x00\x00\x00\x08\x04\xd2\x16\x2f"), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		checkChunking(t, []record{{Frontend, data}}, int(chunk))
	})
}

// FuzzBackend decodes arbitrary server bytes.
func FuzzBackend(f *testing.F) {
	f.Add([]byte("Z\x00\x00\x00\x05I"), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		checkChunking(t, []record{{Backend, data}}, int(chunk))
	})
}

// FuzzPair decodes an arbitrary session tape (see appendRecord), so that the
// state shared by the two directions (encryption answers, authentication)
// is exercised.
func FuzzPair(f *testing.F) {
	f.Fuzz(func(t *testing.T, tape []byte, chunk uint8) {
		checkChunking(t, readTape(tape), int(chunk))
	})
}

// writeSeeds writes the recorded sessions' streams, cut to 4 KiB, as seed
// corpora of the fuzz targets (run by TestSessions under -update).
func writeSeeds(t *testing.T, name string, recs []record) {
	const maxSeed = 4 << 10
	var fe, be, tape []byte
	for _, r := range recs {
		if r.dir == Frontend && len(fe) < maxSeed {
			fe = append(fe, r.b[:min(len(r.b), maxSeed)]...)
		}
		if r.dir == Backend && len(be) < maxSeed {
			be = append(be, r.b[:min(len(r.b), maxSeed)]...)
		}
		if len(tape) < maxSeed {
			tape = appendRecord(tape, r.dir, r.b[:min(len(r.b), maxSeed)])
		}
	}
	for target, data := range map[string][]byte{"FuzzFrontend": fe, "FuzzBackend": be, "FuzzPair": tape} {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\nuint8(%d)\n", data, 1+len(name)%13)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
