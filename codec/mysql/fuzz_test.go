package mysql

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzSession feeds arbitrary record lists (the testdata/*.cap format: a
// direction byte, a 4-byte length, the bytes) to a Session: it must never
// panic, and its framer buffers must stay within their bound.
func FuzzSession(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		s := NewSession(Config{SQLPrefix: 64}, func(ev *Event) {
			if ev.Kind == EventDecodeError || ev.Kind == EventProtocolError {
				if ev.Err == nil {
					t.Fatalf("%s without Err", ev.Kind)
				}
			}
		})
		for _, r := range decodeRecords(data) {
			s.Feed(r.dir, r.data)
		}
		for _, fr := range s.fr {
			if cap(fr.buf) > minPrefix {
				t.Fatalf("framer buffer grew to %d", cap(fr.buf))
			}
		}
	})
}

// FuzzFramer checks that chunking never changes what the Framer yields,
// prefixes included (whole packets alias the chunk, split ones are copied).
func FuzzFramer(f *testing.F) {
	f.Add([]byte{3, 0, 0, 0, 'a', 'b', 'c', 0, 0, 0, 1}, uint8(2))
	f.Add([]byte{0xff, 0xff, 0xff, 0, 1, 2}, uint8(1))
	f.Add([]byte{1, 0, 0, 0, 'x', 4, 0, 0, 0, 0, 0, 0, 0}, uint8(5))
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		whole, e1 := frames(data, 8, 0)
		split, e2 := frames(data, 8, int(chunk)+1)
		if !equalFrames(whole, split) || e1 != e2 {
			t.Fatalf("chunk %d: %+v/%d vs %+v/%d", chunk, whole, e1, split, e2)
		}
		if a, b := prefixes(data, 8, 0), prefixes(data, 8, int(chunk)+1); a != b {
			t.Fatalf("chunk %d: prefixes %q vs %q", chunk, a, b)
		}
	})
}

// prefixes frames input in chunks and joins the messages' prefixes, read
// while each message is current.
func prefixes(input []byte, limit, chunk int) string {
	var out []byte
	f := NewFramer(limit)
	for len(input) > 0 {
		n := len(input)
		if chunk > 0 {
			n = min(n, chunk)
		}
		p := input[:n]
		input = input[n:]
		for len(p) > 0 {
			m, k, _ := f.Next(p)
			p = p[k:]
			if m != nil {
				out = append(append(out, m.Prefix...), '|')
			}
		}
	}
	return string(out)
}

// addSeeds adds the captured sessions and, with -update, writes them (the
// small ones) to the committed corpus under testdata/fuzz/FuzzSession.
func addSeeds(f *testing.F) {
	caps, _ := filepath.Glob("testdata/*.cap")
	for _, path := range caps {
		raw, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		if len(raw) > 8<<10 {
			continue // the large result set slows fuzzing without new paths
		}
		f.Add(raw)
		if *update {
			dir := filepath.Join("testdata", "fuzz", "FuzzSession")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				f.Fatal(err)
			}
			name := strings.TrimSuffix(filepath.Base(path), ".cap")
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", raw)
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				f.Fatal(err)
			}
		}
	}
}
