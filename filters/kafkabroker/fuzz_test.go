package kafkabroker

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite the fuzz seed corpora under testdata/fuzz")

// gateWhole and gateChunked run the gate over stream at once and in chunks
// of cut bytes (as conn.Read does: held bytes first, then new bytes).
func gateRun(stream []byte, cut int) []byte {
	g := &gate{refused: func(k int16) bool { return k == 18 || k < 0 }}
	var out []byte
	buf := make([]byte, cut+gateHead)
	for len(stream) > 0 {
		h := g.takeHeld(buf)
		n := copy(buf[h:], stream[:min(cut, len(stream))])
		stream = stream[n:]
		w := g.filter(buf[:h+n])
		out = append(out, buf[:w]...)
	}
	return out
}

// FuzzGate checks that what the gate forwards does not depend on how the
// client stream is split into reads.
func FuzzGate(f *testing.F) {
	s := testSession()
	f.Add(s.reqs, uint8(7))
	f.Add(s.reqs, uint8(1))
	f.Fuzz(func(t *testing.T, stream []byte, cut uint8) {
		whole := gateRun(stream, len(stream)+1)
		parts := gateRun(stream, int(cut%64)+1)
		if !bytes.Equal(whole, parts) {
			t.Fatalf("chunked output differs: %d vs %d bytes", len(parts), len(whole))
		}
		if len(whole) > len(stream) {
			t.Fatalf("gate produced more than it read")
		}
	})
}

// FuzzResponseStream feeds arbitrary broker bytes after a fixed request
// stream and checks that the client sees the same bytes, and the same
// verdict, however the broker stream is split, with and without rewriting
// and refusals.
func FuzzResponseStream(f *testing.F) {
	s := testSession()
	f.Add(s.resps, uint8(3), uint8(0))
	f.Add(s.resps, uint8(1), uint8(1))
	f.Add(s.resps, uint8(11), uint8(2))
	f.Add(s.resps[:len(s.resps)/2], uint8(5), uint8(3))
	f.Fuzz(func(t *testing.T, resps []byte, cut, mode uint8) {
		build := func() *Filter {
			cfg := &Config{StatPrefix: "f", ForceResponseRewrite: mode&2 != 0}
			if mode&4 != 0 {
				cfg.APIKeysDenied = []uint32{18}
			}
			fl := testFilter(t, cfg)
			if mode&1 != 0 {
				fl.rewrite = rewriteAll
			}
			return fl
		}
		sess := session{reqs: s.reqs, resps: resps}
		_, whole, errW := run(t, build(), sess, 1<<16, []int{len(resps) + 1})
		_, parts, errP := run(t, build(), sess, 64, []int{int(cut%32) + 1})
		if (errW == nil) != (errP == nil) {
			t.Fatalf("verdicts differ: whole %v, chunked %v", errW, errP)
		}
		if errW == nil && !bytes.Equal(whole, parts) {
			t.Fatalf("chunked output differs: %d vs %d bytes", len(parts), len(whole))
		}
	})
}

// TestWriteSeeds writes the seed corpora with -update-seeds.
func TestWriteSeeds(t *testing.T) {
	if !*updateSeeds {
		t.Skip("run with -update-seeds to rewrite testdata/fuzz")
	}
	s := testSession()
	write := func(name, file string, args ...string) {
		dir := filepath.Join("testdata", "fuzz", name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		body := "go test fuzz v1\n"
		for _, a := range args {
			body += a + "\n"
		}
		if err := os.WriteFile(filepath.Join(dir, file), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("FuzzGate", "session", fmt.Sprintf("[]byte(%q)", s.reqs), "byte('\\x05')")
	write("FuzzResponseStream", "rewrite", fmt.Sprintf("[]byte(%q)", s.resps), "byte('\\x03')", "byte('\\x01')")
	write("FuzzResponseStream", "refuse", fmt.Sprintf("[]byte(%q)", s.resps), "byte('\\x02')", "byte('\\x06')")
	write("FuzzResponseStream", "truncated", fmt.Sprintf("[]byte(%q)", s.resps[:37]), "byte('\\x01')", "byte('\\x01')")
}
