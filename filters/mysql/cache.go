package mysql

import (
	"sync/atomic"

	"github.com/sluice-proxy/sluice/internal/clockcache"
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

// cacheShards is clockcache's number of shards: a size is spread over them.
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
// Entries live in internal/clockcache (CLOCK eviction per shard: an entry
// never reused after its insertion goes first). Safe for concurrent use.
type parseCache struct {
	c              *clockcache.Cache[*parsed]
	hits, misses   atomic.Uint64  // for stats()
	hitsC, missesC *stats.Counter // published counters; nil in tests
}

// newParseCache returns a cache of about size entries (at least one per
// shard); size < 1 means DefaultParseCacheSize. hits and misses, when not
// nil, count lookups for the filter's stats.
func newParseCache(size int, hits, misses *stats.Counter) *parseCache {
	if size < 1 {
		size = DefaultParseCacheSize
	}
	return &parseCache{c: clockcache.New[*parsed]((size + cacheShards - 1) / cacheShards), hitsC: hits, missesC: misses}
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
	if res, ok := pc.c.Get(key); ok {
		pc.hits.Add(1)
		if pc.hitsC != nil {
			pc.hitsC.Inc()
		}
		return res
	}
	pc.misses.Add(1)
	if pc.missesC != nil {
		pc.missesC.Inc()
	}
	res := parseNow(string(sql), db)
	pc.c.Put(key, res)
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
	res, ok := pc.c.Get(key)
	if !ok {
		return nil
	}
	pc.hits.Add(1)
	if pc.hitsC != nil {
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
	return &parsed{stmts: stmts, meta: sqlmeta.Metadata(stmts)}
}

// cacheStats is a snapshot of a parse cache's counters.
type cacheStats struct {
	Hits, Misses uint64
	Entries      int
}

// stats sums the shards' counters.
func (pc *parseCache) stats() cacheStats {
	return cacheStats{Hits: pc.hits.Load(), Misses: pc.misses.Load(), Entries: pc.c.Len()}
}
