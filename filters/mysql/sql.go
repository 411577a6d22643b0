package mysql

import (
	"strings"
	"unsafe"

	codec "github.com/sluice-proxy/sluice/codec/mysql"
	"github.com/sluice-proxy/sluice/filters"
	sqlmysql "github.com/sluice-proxy/sluice/sqlmeta/mysql"
)

// statement counts, parses, publishes and gates one COM_QUERY or
// COM_STMT_PREPARE. The parse comes from the filter's parse cache; its
// statements and metadata are shared with other connections, and the
// gates and metadata readers must not change them.
func (c *conn) statement(ev *codec.Event) {
	st := c.f.stats
	// ev.SQL is valid during the callback only: sql aliases it and is
	// copied wherever it is kept.
	sql := bytesString(ev.SQL)
	if ev.Truncated {
		st.QueriesParseError.Inc()
		st.kind(sqlmysql.Classify(sql)).Inc()
		if c.gated { // cannot be checked: refuse rather than guess
			c.deny(filters.SQLVerdict{Close: true, Policy: "sluice.statement_too_long"})
		}
		return
	}
	if !c.f.cfg.parseSQL() && !c.gated {
		st.kind(sqlmysql.Classify(sql)).Inc()
		return
	}
	c.metaNext++
	seq := c.metaNext
	var res *parsed
	switch {
	case c.onLoop:
		// On an event loop's thread nothing may wait for the parser: a
		// cached shape is answered here; a new one is parsed by the
		// filter's parsing goroutine while the loop, after passing this
		// chunk on, reads nothing more from this client (ungated: the
		// statement itself need not wait). A USE is parsed here, as the
		// statements after it need its database; it is cheap.
		if c.f.cache != nil {
			res = c.f.cache.lookup(ev.SQL, c.ev.db)
		}
		if res == nil && sqlmysql.Classify(sql) != "use" {
			c.deferParse(seq, ev.SQL, c.ev.db)
			return
		}
		if res == nil {
			res = parseNow(string(ev.SQL), c.ev.db)
		}
	case c.f.cache != nil:
		res = c.f.cache.parse(ev.SQL, c.ev.db)
	default:
		res = parseNow(string(ev.SQL), c.ev.db) // a copy: the result keeps substrings
	}
	if res.err != nil {
		st.QueriesParseError.Inc()
		st.kind(sqlmysql.Classify(sql)).Inc()
		if c.gated {
			c.deny(filters.SQLVerdict{Deny: true, Policy: "sluice.unparsed_statement"})
		}
		return
	}
	st.QueriesParsed.Inc()
	for i := range res.stmts {
		s := &res.stmts[i]
		st.kind(s.Kind).Inc()
		if s.Kind == "use" {
			if db := useDB(sql); db != "" {
				c.ev.db = strings.Clone(db)
			}
		}
	}
	c.publish(seq, res.meta)
	if c.gated {
		if v := c.s.CheckSQL(res.stmts); v.Deny || v.Close {
			c.deny(v)
		}
	}
}

// maxQueuedParses bounds the statements waiting to be parsed off the event
// loops, per filter. A connection waits for its own parse (its reading is
// held), so each holds at most the parses of one chunk; past the bound a
// statement is not parsed and counts in queries_parse_skipped (a sluice
// stat).
const maxQueuedParses = 256

// deferParse queues a copy of sql in db for the filter's one parsing
// goroutine (filters.Serial: parses run one at a time, as they did on the
// loop, but off it) and holds the client's reading until it is done, so
// that a client sending only new statements goes at the parser's pace and
// its metadata keeps statement order; the other connections on the loop
// never wait. The result fills the cache, the counts and the session's
// metadata.
func (c *conn) deferParse(seq uint64, sql []byte, db string) {
	f := c.f
	text := append([]byte(nil), sql...)
	c.pause.Hold()
	if !f.parses.Submit(func() {
		defer c.pause.Release()
		defer c.s.Recover() // a panic closes this connection; the parser goes on
		var res *parsed
		if f.cache != nil {
			res = f.cache.parse(text, db)
		} else {
			res = parseNow(string(text), db)
		}
		st := f.stats
		if res.err != nil {
			st.QueriesParseError.Inc()
			st.kind(sqlmysql.Classify(string(text))).Inc()
			return
		}
		st.QueriesParsed.Inc()
		for i := range res.stmts {
			st.kind(res.stmts[i].Kind).Inc()
		}
		c.publish(seq, res.meta)
	}, c.s.Go) {
		c.pause.Release()
		f.stats.QueriesParseSkipped.Inc()
	}
}

// publish makes meta the session's metadata unless a later statement's
// (seq numbers them in the order they came) is already published: a
// deferred parse may finish after the cached statements that followed it,
// and the session's metadata is the last statement's, as in Envoy.
func (c *conn) publish(seq uint64, meta map[string][]string) {
	c.metaMu.Lock()
	if seq > c.metaLast {
		c.metaLast = seq
		c.s.SetMetadata(MetadataNamespace, meta)
	}
	c.metaMu.Unlock()
}

// bytesString views b as a string without copying; the string is valid as
// long as b is and must not outlive it.
func bytesString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// useDB returns the database of a "USE db" statement (a substring of sql).
func useDB(sql string) string {
	f := strings.Fields(strings.TrimRight(strings.TrimSpace(sql), "; \t\n"))
	if len(f) != 2 || !strings.EqualFold(f[0], "use") {
		return ""
	}
	return strings.Trim(f[1], "`")
}
