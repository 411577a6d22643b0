package redis

import "testing"

// TestReuseBound: a buffer is kept, emptied, up to exactly its bound and
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
