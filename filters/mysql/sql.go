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
	var res *parsed
	if c.f.cache != nil {
		res = c.f.cache.parse(ev.SQL, c.ev.db)
	} else {
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
	c.s.SetMetadata(MetadataNamespace, res.meta)
	if c.gated {
		if v := c.s.CheckSQL(res.stmts); v.Deny || v.Close {
			c.deny(v)
		}
	}
}

// bytesString views b as a string without copying; the string is valid as
// long as b is and must not outlive it.
func bytesString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

func appendOnce(ops []string, op string) []string {
	for _, o := range ops {
		if o == op {
			return ops
		}
	}
	return append(ops, op)
}

// useDB returns the database of a "USE db" statement (a substring of sql).
func useDB(sql string) string {
	f := strings.Fields(strings.TrimRight(strings.TrimSpace(sql), "; \t\n"))
	if len(f) != 2 || !strings.EqualFold(f[0], "use") {
		return ""
	}
	return strings.Trim(f[1], "`")
}
