package zookeeper

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// seeds returns the captured real sessions (testdata/*.client and
// *.server, written by integration's TestZooKeeperCapture -zk-update) and
// the synthetic session.
func seeds(t testing.TB, suffix string) [][]byte {
	files, _ := filepath.Glob(filepath.Join("testdata", "*."+suffix))
	var out [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// FuzzDecoder feeds arbitrary bytes, split at an arbitrary point, to both
// decoders and the patcher: no panic, no unbounded hold, the same frames
// whatever the split, and the patcher changes nothing when it matches no
// xid.
func FuzzDecoder(f *testing.F) {
	b, _ := session()
	f.Add(b, uint16(7), false)
	for _, s := range seeds(f, "client") {
		f.Add(s, uint16(len(s)/2), false)
	}
	for _, s := range seeds(f, "server") {
		f.Add(s, uint16(len(s)/3), true)
	}
	f.Fuzz(func(t *testing.T, in []byte, split uint16, server bool) {
		cut := int(split) % (len(in) + 1)
		const max = 4096
		if server {
			run := func(chunks ...[]byte) (out []Response, err error) {
				d := NewResponseDecoder(Config{MaxPacketBytes: max})
				for _, c := range chunks {
					if err = d.Feed(c, func(r *Response) error { out = append(out, *r); return nil }); err != nil {
						return out, err
					}
					if cap(d.f.buf) > max+headerLen {
						t.Fatalf("held %d bytes", cap(d.f.buf))
					}
				}
				return out, nil
			}
			a, errA := run(in)
			bb, errB := run(in[:cut], in[cut:])
			if (errA == nil) != (errB == nil) || len(a) != len(bb) {
				t.Fatalf("split changed the result: %v/%d vs %v/%d", errA, len(a), errB, len(bb))
			}
			p := append([]byte(nil), in...)
			var e ErrPatcher
			e.Patch(p[:cut], func(int32) bool { return false }, ErrNoAuth)
			e.Patch(p[cut:], func(int32) bool { return false }, ErrNoAuth)
			if !bytes.Equal(p, in) {
				t.Fatal("patcher changed bytes it was not asked to")
			}
			return
		}
		run := func(chunks ...[]byte) (n int, err error) {
			d := NewRequestDecoder(Config{MaxPacketBytes: max})
			for _, c := range chunks {
				if err = d.Feed(c, func(r *Request) error { n++; return nil }); err != nil {
					return n, err
				}
				if cap(d.f.buf) > 2*max {
					t.Fatalf("held %d bytes", cap(d.f.buf))
				}
			}
			return n, nil
		}
		na, errA := run(in)
		nb, errB := run(in[:cut], in[cut:])
		if (errA == nil) != (errB == nil) || na != nb {
			t.Fatalf("split changed the result: %v/%d vs %v/%d", errA, na, errB, nb)
		}
	})
}
