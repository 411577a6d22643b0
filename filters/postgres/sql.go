package postgres

import (
	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/internal/clockcache"
	"github.com/sluice-proxy/sluice/sqlmeta"
	sqlpg "github.com/sluice-proxy/sluice/sqlmeta/pg"
)

// parseCacheSize bounds the parse results kept per filter.
const parseCacheSize = 4096

// query handles the SQL text of a Query or Parse: parse (when enabled or
// gated), count, publish metadata, ask the gates. truncated says the text
// was cut at max_sql_prefix.
func (c *conn) query(sql []byte, truncated bool) filters.SQLVerdict {
	f := c.f
	gated := c.g != nil
	if !f.cfg.parseSQL() && !gated {
		return filters.SQLVerdict{}
	}
	if truncated {
		f.stats.StatementsParseError.Inc()
		if gated { // cannot be checked: refuse rather than guess
			return filters.SQLVerdict{Close: true, Policy: "sluice.statement_too_long"}
		}
		return filters.SQLVerdict{}
	}
	if c.onLoop {
		// On an event loop's thread nothing may wait for libpg_query: a
		// shape seen before is answered from the cache here; a new one is
		// parsed by the filter's parsing goroutine while the loop, after
		// passing this chunk on, reads nothing more from this client
		// (ungated, so the statement itself need not wait).
		c.metaNext++
		if stmts, meta, err, hit := f.cache.lookup(sql); hit {
			c.countParse(c.metaNext, stmts, meta, err)
		} else {
			c.deferParse(c.metaNext, sql)
		}
		return filters.SQLVerdict{}
	}
	stmts, meta, err := f.cache.parse(sql)
	if err != nil {
		f.stats.StatementsParseError.Inc()
		c.s.Log.Debug("postgres_proxy: cannot parse SQL", "err", err)
		if gated {
			return filters.SQLVerdict{Deny: true, Policy: "sluice.unparsed_statement"}
		}
		return filters.SQLVerdict{}
	}
	f.stats.StatementsParsed.Inc()
	c.s.SetMetadata(MetadataNamespace, meta)
	if gated {
		return c.s.CheckSQL(stmts)
	}
	return filters.SQLVerdict{}
}

// countParse counts a parse result and publishes its metadata, unless a
// later statement's (seq numbers them on the loop) is already published: a
// deferred parse may finish after the cached statements that followed it,
// and the session's metadata is the last statement's, as in Envoy.
func (c *conn) countParse(seq uint64, _ []sqlmeta.Statement, meta map[string][]string, err error) {
	if err != nil {
		c.f.stats.StatementsParseError.Inc()
		c.s.Log.Debug("postgres_proxy: cannot parse SQL", "err", err)
		return
	}
	c.f.stats.StatementsParsed.Inc()
	c.metaMu.Lock()
	if seq > c.metaLast {
		c.metaLast = seq
		c.s.SetMetadata(MetadataNamespace, meta)
	}
	c.metaMu.Unlock()
}

// maxQueuedParses bounds the statements waiting to be parsed off the event
// loops, per filter. A connection waits for its own parse (its reading is
// held), so each holds at most the parses of one chunk; past the bound a
// statement is not parsed and counts in statements_parse_skipped (a sluice
// stat).
const maxQueuedParses = 256

// deferParse queues a copy of sql for the filter's one parsing goroutine
// (filters.Serial: parses run one at a time, as they did on the loop, but
// off it) and holds the client's reading until it is done, so that a
// client sending only new statements goes at the parser's pace and its
// metadata keeps statement order; the other connections on the loop never
// wait. The result fills the cache, the stats and the session's metadata.
func (c *conn) deferParse(seq uint64, sql []byte) {
	f := c.f
	text := append([]byte(nil), sql...)
	c.pause.Hold()
	if !f.parses.Submit(func() {
		defer c.pause.Release()
		defer c.s.Recover() // a panic closes this connection; the parser goes on
		stmts, meta, err := f.cache.parse(text)
		c.countParse(seq, stmts, meta, err)
	}, c.s.Go) {
		c.pause.Release()
		f.stats.StatementsParseSkipped.Inc()
	}
}

// parseCache remembers parse results by the statement's shape: the SQL with
// numeric literals blanked (see shapeKey), so that "... WHERE aid = 17" and
// "... WHERE aid = 42" share one libpg_query parse (~100 us each). The
// cached statements are shared: consumers must not modify them. Eviction is
// CLOCK per shard, as mysql_proxy's: a hit sets the entry's reference bit,
// and an insertion into a full shard evicts the first entry without one,
// clearing the bits it passes, so a client sending only new statements
// evicts other new statements, not the hot shapes (the shard used to be
// cleared whole, which sent every connection's next query to the parser).
// The store is internal/clockcache, shared with mysql_proxy.
type parseCache struct {
	c *clockcache.Cache[cacheEntry]
}

type cacheEntry struct {
	stmts []sqlmeta.Statement
	meta  map[string][]string
	err   error
}

func newParseCache(size int) *parseCache {
	return &parseCache{c: clockcache.New[cacheEntry](size / 16)}
}

// lookup returns what parse would from the cache alone; hit is false when
// sql would need a parse.
func (pc *parseCache) lookup(sql []byte) (stmts []sqlmeta.Statement, meta map[string][]string, err error, hit bool) {
	var buf [256]byte
	key, ok := shapeKey(buf[:0], sql)
	if !ok {
		return nil, nil, nil, false
	}
	e, hit := pc.c.Get(key)
	return e.stmts, e.meta, e.err, hit
}

// parse returns the statements of sql and their metadata, from the cache
// when its shape was parsed before. Both are shared: read only.
func (pc *parseCache) parse(sql []byte) ([]sqlmeta.Statement, map[string][]string, error) {
	var buf [256]byte
	key, ok := shapeKey(buf[:0], sql)
	if !ok {
		stmts, err := sqlpg.Parse(string(sql))
		if err != nil {
			return nil, nil, err
		}
		return stmts, sqlmeta.Metadata(stmts), nil
	}
	if e, hit := pc.c.Get(key); hit {
		return e.stmts, e.meta, e.err
	}
	var e cacheEntry
	e.stmts, e.err = sqlpg.Parse(string(sql))
	if e.err == nil {
		e.meta = sqlmeta.Metadata(e.stmts)
	}
	pc.c.Put(key, e)
	return e.stmts, e.meta, e.err
}

// shapeKey appends to dst the SQL with every numeric literal replaced by a
// single '0'. A number never names a table, so statements with the same key
// touch the same tables with the same operations. Only SQL without double
// quotes qualifies (a quoted identifier such as "t 1" may hold digits that
// do matter); ok is false then, and for texts over 4 KiB, which are parsed
// uncached. It runs for every simple-protocol Query on the event loop, so
// it classifies bytes by table and copies the text between literals in
// runs rather than byte by byte.
func shapeKey(dst, sql []byte) (key []byte, ok bool) {
	if len(sql) > 4096 {
		return nil, false
	}
	prevIdent := false
	from := 0 // sql[from:i] is still to be copied as is
	for i := 0; i < len(sql); i++ {
		switch shapeClass[sql[i]] {
		case clsOther:
			prevIdent = false
		case clsIdent:
			prevIdent = true
		case clsQuote:
			return nil, false
		case clsDigit:
			if prevIdent { // part of a name (t1) or of a literal's tail (1e5)
				continue
			}
			dst = append(append(dst, sql[from:i]...), '0')
			for i+1 < len(sql) && shapeClass[sql[i+1]] == clsDigit {
				i++
			}
			from = i + 1
			prevIdent = true // the rest of a literal such as 1e5 stays as is
		}
	}
	return append(dst, sql[from:]...), true
}

// Byte classes for shapeKey.
const (
	clsOther = iota // punctuation, space, quotes other than '"'
	clsIdent        // letters, '_', '$' and non-ASCII: continue a name
	clsDigit
	clsQuote // '"': a quoted identifier, never shaped
)

// shapeClass is each byte's class.
var shapeClass = func() (t [256]uint8) {
	for b := range 256 {
		switch {
		case b == '"':
			t[b] = clsQuote
		case b >= '0' && b <= '9':
			t[b] = clsDigit
		case b == '_' || b == '$' || b >= 0x80 || (b|0x20 >= 'a' && b|0x20 <= 'z'):
			t[b] = clsIdent
		}
	}
	return t
}()
