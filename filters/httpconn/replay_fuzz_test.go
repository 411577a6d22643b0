package httpconn

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// chunkReader returns data in the sizes sizes gives, cycling.
type chunkReader struct {
	data  []byte
	sizes []byte
	i     int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := 1
	if len(c.sizes) > 0 {
		n = int(c.sizes[c.i%len(c.sizes)]) + 1
		c.i++
	}
	n = min(n, len(p), len(c.data))
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

func (c *chunkReader) Close() error { return nil }

// FuzzReplay: whatever the chunking, the limit and how attempts interleave
// their reads (ops picks which view reads next and how much), every view
// that is not refused reads exactly the body, a view is refused only once
// more than limit bytes were read, and the completion callback gets the
// whole body exactly when it fits. Seeded with a small HTTP request body.
func FuzzReplay(f *testing.F) {
	f.Add([]byte(`{"user":"alice","items":[1,2,3]}`), []byte{3, 7, 1}, uint16(64), []byte{0, 1, 0, 2, 1})
	f.Add(bytes.Repeat([]byte("x"), 300), []byte{200}, uint16(100), []byte{0, 0, 1})
	f.Fuzz(func(t *testing.T, body, sizes []byte, limit uint16, ops []byte) {
		rp := newReplay(&chunkReader{data: bytes.Clone(body), sizes: sizes}, int64(limit), -1)
		var got []byte
		calls := 0
		rp.onComplete(func(b []byte, ok bool) {
			calls++
			if ok {
				got = bytes.Clone(b)
			}
		})
		views := []*view{rp.view()}
		reads := [][]byte{nil}
		done := []bool{false}
		for i := 0; i < 10000; i++ {
			var op byte
			if len(ops) > 0 {
				op = ops[i%len(ops)]
			}
			if op%4 == 3 && len(views) < 4 { // a retry starts
				views = append(views, rp.view())
				reads = append(reads, nil)
				done = append(done, false)
				continue
			}
			k := int(op) % len(views)
			if done[k] {
				all := true
				for _, d := range done {
					all = all && d
				}
				if all {
					break
				}
				continue
			}
			buf := make([]byte, int(op)%17+1)
			n, err := views[k].Read(buf)
			reads[k] = append(reads[k], buf[:n]...)
			switch {
			case errors.Is(err, errReplayLost):
				if len(body) <= int(limit) {
					t.Fatalf("view %d refused though %d bytes fit the limit %d", k, len(body), limit)
				}
				done[k] = true
			case err == io.EOF:
				if !bytes.Equal(reads[k], body) {
					t.Fatalf("view %d read %q, want %q", k, reads[k], body)
				}
				done[k] = true
			case err != nil:
				t.Fatal(err)
			}
		}
		if done[0] && calls != 1 {
			t.Fatalf("completion called %d times", calls)
		}
		if done[0] && (len(body) <= int(limit)) != (got != nil || len(body) == 0) {
			t.Fatalf("completion body %q for a %d-byte body, limit %d", got, len(body), limit)
		}
		if got != nil && !bytes.Equal(got, body) {
			t.Fatalf("completion body %q, want %q", got, body)
		}
	})
}
