package clockcache

import (
	"reflect"
	"testing"
)

// TestShardClock: a full shard evicts the first entry not used since the
// hand last passed it (moved here from mysql_proxy's cache test).
func TestShardClock(t *testing.T) {
	sh := shard[int]{index: map[string]int{}, limit: 2}
	put := func(k string) { sh.put([]byte(k), 1) }
	get := func(k string) bool { _, ok := sh.get([]byte(k)); return ok }
	put("a")
	put("b")
	get("a") // a is referenced
	put("c")
	var present []string
	for _, k := range []string{"a", "b", "c"} {
		if get(k) {
			present = append(present, k)
		}
	}
	if want := []string{"a", "c"}; !reflect.DeepEqual(present, want) || len(sh.slots) != 2 || len(sh.index) != 2 {
		t.Errorf("present %v (%d slots, %d indexed), want %v", present, len(sh.slots), len(sh.index), want)
	}
	// The gets above set a's and c's bits again; the hand is at a: d
	// clears a's and c's bits and evicts a, the older of the two.
	put("d")
	if get("a") || !get("c") || !get("d") {
		t.Errorf("after d: slots %+v, want c and d", sh.slots)
	}
}

// TestBounded: many keys never grow the cache past 16 shards × perShard.
func TestBounded(t *testing.T) {
	c := New[int](2)
	for i := range 500 {
		c.Put([]byte{byte(i), byte(i >> 8)}, i)
	}
	if n := c.Len(); n > 32 {
		t.Errorf("%d entries, want at most 32", n)
	}
	for i := range c.shards {
		if sh := &c.shards[i]; len(sh.slots) > sh.limit || len(sh.slots) != len(sh.index) {
			t.Fatalf("shard %d: %d slots, %d indexed, bound %d", i, len(sh.slots), len(sh.index), sh.limit)
		}
	}
}
