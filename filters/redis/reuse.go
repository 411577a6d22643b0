package redis

// Buffers kept for reuse (a client's reply batch, an upstream connection's
// request batch, a slot's reply and request copies) follow one rule: a
// buffer that grew past its bound, for one large value or batch, is dropped
// instead of kept, so that one big value does not pin its memory for the
// life of a connection or of a pooled slot.
const (
	// keepBatch bounds the write batches kept: client reply bytes and
	// upstream request bytes.
	keepBatch = 1 << 20
	// keepSlot bounds a pooled slot's reply and request copies.
	keepSlot = 64 << 10
)

// reuse returns b emptied for reuse when its capacity is at most bound,
// else nil (the caller allocates afresh next time).
func reuse(b []byte, bound int) []byte {
	if cap(b) > bound {
		return nil
	}
	return b[:0]
}
