package redis

import (
	"bytes"
	"testing"
)

// TestReuseBound: a slice is kept, emptied, up to exactly its bound and
// dropped one byte past it, for both bounds in use.
func TestReuseBound(t *testing.T) {
	for _, bound := range []int{keepBatch, keepSlot} {
		at := make([]byte, 10, bound)
		if got := reuse(at, bound); got == nil || len(got) != 0 || cap(got) != bound {
			t.Fatalf("bound %d: a buffer of cap %d was not kept empty (%d/%d)", bound, bound, len(got), cap(got))
		}
		if got := reuse(make([]byte, 0, bound+1), bound); got != nil {
			t.Fatalf("bound %d: a buffer of cap %d was kept", bound, bound+1)
		}
	}
	if reuse(nil, keepSlot) != nil {
		t.Fatal("nil came back non-nil")
	}
}

// TestBufferBounds: emptied, a buffer keeps storage of exactly its keep
// bound and drops one byte more, whichever way it was emptied; a read
// buffer stops at its limit with errFull and holds exactly the limit.
func TestBufferBounds(t *testing.T) {
	for _, keep := range []int{keepBatch, keepSlot, keepRead} {
		for _, extra := range []int{0, 1} {
			empty := map[string]func(*buffer){
				"consume": func(x *buffer) { x.consume(x.len()) },
				"reset":   func(x *buffer) { x.reset() },
				"take/put": func(x *buffer) {
					x.put(x.take())
					x.add(nil)
				},
			}
			for how, f := range empty {
				x := newBuffer(keep)
				x.b = make([]byte, 0, keep+extra)
				x.add([]byte("abc"))
				f(&x)
				kept := cap(x.b)
				if how == "take/put" {
					kept = cap(x.spare)
				}
				if x.len() != 0 || (extra == 0) != (kept == keep+extra) {
					t.Fatalf("keep %d, cap %d, %s: len %d, kept cap %d", keep, keep+extra, how, x.len(), kept)
				}
			}
		}
	}

	const limit = 40 << 10
	x := newBuffer(keepRead)
	src := bytes.NewReader(make([]byte, 3*limit))
	for {
		_, err := x.readFrom(src, limit)
		if err == errFull {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if x.len() != limit {
		t.Fatalf("a full read buffer holds %d bytes, want its limit %d", x.len(), limit)
	}
	x.consume(10)
	if n, err := x.readFrom(src, limit); err != nil || n != 10 || x.len() != limit {
		t.Fatalf("after consuming 10: read %d, %v, holds %d", n, err, x.len())
	}
}

// TestBufferOrder: bytes come out in the order added across partial
// consumes, compaction and take.
func TestBufferOrder(t *testing.T) {
	x := newBuffer(keepBatch)
	var want, got []byte
	for i := 0; i < 1000; i++ {
		p := []byte{byte(i), byte(i >> 8), byte(i * 7)}
		x.add(p)
		want = append(want, p...)
		if i%3 == 0 {
			n := min(x.len(), i%5+1)
			got = append(got, x.bytes()[:n]...)
			x.consume(n)
		}
	}
	got = append(got, x.take()...)
	if !bytes.Equal(got, want) {
		t.Fatal("bytes out of order")
	}
}
