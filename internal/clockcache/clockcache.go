// Package clockcache is the parse caches' store (postgres_proxy and
// mysql_proxy): a map from byte-string keys to values in 16 locked shards,
// each of a fixed number of entries evicted by CLOCK. A hit sets the
// entry's reference bit; an insertion into a full shard evicts the first
// entry without one, clearing the bits it passes, so a stream of one-off
// keys evicts other one-off keys, not the hot ones. Hand-written: a
// second-chance ring is a few lines, and the libraries at hand (LRU lists)
// move an entry on every hit, which costs a write on the read path.
package clockcache

import (
	"sync"

	"github.com/cespare/xxhash/v2"
)

const shards = 16

// Cache is safe for concurrent use.
type Cache[V any] struct {
	shards [shards]shard[V]
}

type shard[V any] struct {
	mu          sync.Mutex
	index       map[string]int // key to slot
	slots       []slot[V]
	limit, hand int
}

type slot[V any] struct {
	key string
	ref bool
	v   V
}

// New returns a cache of perShard entries in each of its 16 shards (at
// least one).
func New[V any](perShard int) *Cache[V] {
	c := &Cache[V]{}
	for i := range c.shards {
		c.shards[i] = shard[V]{index: make(map[string]int), limit: max(perShard, 1)}
	}
	return c
}

func (c *Cache[V]) shard(key []byte) *shard[V] {
	return &c.shards[xxhash.Sum64(key)&(shards-1)]
}

// Get returns key's value and marks it used; the lookup allocates nothing.
func (c *Cache[V]) Get(key []byte) (V, bool) { return c.shard(key).get(key) }

func (sh *shard[V]) get(key []byte) (V, bool) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	i, ok := sh.index[string(key)]
	if !ok {
		var zero V
		return zero, false
	}
	sh.slots[i].ref = true
	return sh.slots[i].v, true
}

// Put stores v under key (replacing a value stored meanwhile), evicting by
// CLOCK when the shard is full.
func (c *Cache[V]) Put(key []byte, v V) { c.shard(key).put(key, v) }

func (sh *shard[V]) put(key []byte, v V) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if i, ok := sh.index[string(key)]; ok {
		sh.slots[i].v = v
		return
	}
	k := string(key)
	if len(sh.slots) < sh.limit {
		sh.index[k] = len(sh.slots)
		sh.slots = append(sh.slots, slot[V]{key: k, v: v})
		return
	}
	for sh.slots[sh.hand].ref {
		sh.slots[sh.hand].ref = false
		sh.hand = (sh.hand + 1) % len(sh.slots)
	}
	delete(sh.index, sh.slots[sh.hand].key)
	sh.slots[sh.hand] = slot[V]{key: k, v: v}
	sh.index[k] = sh.hand
	sh.hand = (sh.hand + 1) % len(sh.slots)
}

// Len returns the number of entries.
func (c *Cache[V]) Len() int {
	n := 0
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		n += len(sh.slots)
		sh.mu.Unlock()
	}
	return n
}
