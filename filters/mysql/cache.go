package mysql

import (
	"sync"

	"github.com/cespare/xxhash/v2"

	"github.com/sluice-proxy/sluice/sqlmeta"
	sqlmysql "github.com/sluice-proxy/sluice/sqlmeta/mysql"
	"github.com/sluice-proxy/sluice/stats"
)

// DefaultParseCacheSize is how many statement shapes a filter's parse
// cache keeps when no size is configured.
const DefaultParseCacheSize = 4096

// maxCachedSQL is the longest statement text the cache keeps a result for;
// longer ones are parsed every time. With the default size it bounds the
// keys at 16 MiB per filter, whatever max_sql_bytes allows.
const maxCachedSQL = 4096

// cacheShards spreads the cache over locks; a power of two.
const cacheShards = 16

// parsed is the result of parsing one statement text in one current
// database. It is shared by every connection of the filter: read only.
type parsed struct {
	stmts []sqlmeta.Statement
	meta  map[string][]string // Envoy's shape: table to operations
	err   error
}

// parseCache remembers parse results by statement shape (AppendShape:
// integer literals and comments blanked) and current database, so that
// "... WHERE id=17" and "... WHERE id=42" share one parse (~10 us each with
// the TiDB grammar). Text AppendShape does not model is keyed verbatim.
// Eviction is CLOCK per shard: a hit sets the entry's reference bit, and
// an insertion into a full shard evicts the first entry without one,
// clearing the bits it passes; an entry never reused after its insertion
// goes first. Safe for concurrent use.
type parseCache struct {
	shards         [cacheShards]cacheShard
	hitsC, missesC *stats.Counter // published counters; nil in tests
}

type cacheShard struct {
	mu           sync.Mutex
	index        map[string]int // key to slot
	slots        []cacheSlot
	limit        int
	hand         int
	hits, misses uint64
}

type cacheSlot struct {
	key string
	ref bool
	res *parsed
}

// newParseCache returns a cache of about size entries (at least one per
// shard); size < 1 means DefaultParseCacheSize. hits and misses, when not
// nil, count lookups for the filter's stats.
func newParseCache(size int, hits, misses *stats.Counter) *parseCache {
	if size < 1 {
		size = DefaultParseCacheSize
	}
	pc := &parseCache{hitsC: hits, missesC: misses}
	per := (size + cacheShards - 1) / cacheShards
	for i := range pc.shards {
		pc.shards[i] = cacheShard{index: make(map[string]int, per), limit: per}
	}
	return pc
}

// parse returns what sqlmysql.Parse says about sql in database db, from
// the cache when a statement of the same shape was parsed before. The
// result is shared: read only.
func (pc *parseCache) parse(sql []byte, db string) *parsed {
	if len(sql) > maxCachedSQL {
		return parseNow(string(sql), db)
	}
	var buf [512]byte
	key := cacheKey(buf[:0], sql, db)
	sh := &pc.shards[xxhash.Sum64(key)&(cacheShards-1)]
	if res := sh.get(key); res != nil {
		if pc.hitsC != nil {
			pc.hitsC.Inc()
		}
		return res
	}
	if pc.missesC != nil {
		pc.missesC.Inc()
	}
	res := parseNow(string(sql), db)
	sh.put(key, res)
	return res
}

// lookup returns the cached result for sql in db, or nil when it would need
// a parse (a miss is counted by the parse that follows).
func (pc *parseCache) lookup(sql []byte, db string) *parsed {
	if len(sql) > maxCachedSQL {
		return nil
	}
	var buf [512]byte
	key := cacheKey(buf[:0], sql, db)
	sh := &pc.shards[xxhash.Sum64(key)&(cacheShards-1)]
	sh.mu.Lock()
	var res *parsed
	if i, ok := sh.index[string(key)]; ok { // no allocation for the lookup
		sh.hits++
		sh.slots[i].ref = true
		res = sh.slots[i].res
	}
	sh.mu.Unlock()
	if res != nil && pc.hitsC != nil {
		pc.hitsC.Inc()
	}
	return res
}

// cacheKey is 's' (a shape) or 'v' (verbatim text), the database, a NUL
// (no database name holds one) and the shape or text.
func cacheKey(dst, sql []byte, db string) []byte {
	dst = append(append(append(dst, 's'), db...), 0)
	if key, ok := sqlmysql.AppendShape(dst, bytesString(sql)); ok {
		return key
	}
	dst[0] = 'v'
	return append(dst, sql...)
}

// parseNow parses and derives the metadata.
func parseNow(sql, db string) *parsed {
	stmts, err := sqlmysql.Parse(sql, db)
	if err != nil {
		return &parsed{err: err}
	}
	meta := make(map[string][]string)
	for i := range stmts {
		for t, ops := range stmts[i].Tables {
			for _, op := range ops {
				meta[t] = appendOnce(meta[t], string(op))
			}
		}
	}
	return &parsed{stmts: stmts, meta: meta}
}

func (sh *cacheShard) get(key []byte) *parsed {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	i, ok := sh.index[string(key)] // no allocation for the lookup
	if !ok {
		sh.misses++
		return nil
	}
	sh.hits++
	sh.slots[i].ref = true
	return sh.slots[i].res
}

func (sh *cacheShard) put(key []byte, res *parsed) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if i, ok := sh.index[string(key)]; ok { // parsed concurrently by another connection
		sh.slots[i].res = res
		return
	}
	k := string(key)
	if len(sh.slots) < sh.limit {
		sh.index[k] = len(sh.slots)
		sh.slots = append(sh.slots, cacheSlot{key: k, res: res})
		return
	}
	for sh.slots[sh.hand].ref {
		sh.slots[sh.hand].ref = false
		sh.hand = (sh.hand + 1) % len(sh.slots)
	}
	delete(sh.index, sh.slots[sh.hand].key)
	sh.slots[sh.hand] = cacheSlot{key: k, res: res}
	sh.index[k] = sh.hand
	sh.hand = (sh.hand + 1) % len(sh.slots)
}

// cacheStats is a snapshot of a parse cache's counters.
type cacheStats struct {
	Hits, Misses uint64
	Entries      int
}

// stats sums the shards' counters.
func (pc *parseCache) stats() cacheStats {
	var s cacheStats
	for i := range pc.shards {
		sh := &pc.shards[i]
		sh.mu.Lock()
		s.Hits += sh.hits
		s.Misses += sh.misses
		s.Entries += len(sh.slots)
		sh.mu.Unlock()
	}
	return s
}
