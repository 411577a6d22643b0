package postgres

import (
	"fmt"
	"testing"
)

// TestParseCacheKeepsHotShapes: a flood of statements never seen twice
// (four times the cache) does not evict a shape that is being used, and the
// cache stays within its size. (The shard used to be cleared whole when
// full, which sent the hot shape back to the parser.)
func TestParseCacheKeepsHotShapes(t *testing.T) {
	pc := newParseCache(64) // 4 per shard
	hot := []byte("SELECT abalance FROM pgbench_accounts WHERE aid = 1")
	if _, _, err := pc.parse(hot); err != nil {
		t.Fatal(err)
	}
	for i := range 256 {
		if _, _, err := pc.parse([]byte(fmt.Sprintf("SELECT * FROM flood_%c%c", 'a'+i%26, 'a'+i/26))); err != nil {
			t.Fatal(err)
		}
		if _, _, _, hit := pc.lookup([]byte("SELECT abalance FROM pgbench_accounts WHERE aid = 7")); !hit {
			t.Fatalf("the hot shape was evicted after %d new statements", i+1)
		}
	}
	n := pc.c.Len()
	if n > 64 {
		t.Fatalf("%d entries, bound 64", n)
	}
}
