package mysql

import (
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	gm "github.com/go-mysql-org/go-mysql/mysql"

	codec "github.com/sluice-proxy/sluice/codec/mysql"
	"github.com/sluice-proxy/sluice/filters"
	sqlmysql "github.com/sluice-proxy/sluice/sqlmeta/mysql"
)

// evState is what the event callback keeps for one connection. The flags
// are atomics because the reading goroutine looks at them without the
// codec lock; the rest is touched only inside the callback (under conn.mu)
// or by the reading goroutine that fed the client bytes.
type evState struct {
	stopped  atomic.Bool // the codec stopped decoding (TLS passed through, compression...)
	loggedIn atomic.Bool // the connection phase ended (login OK or ERR)
	shift    atomic.Bool // sequence ids are rewritten (TLS terminated, connection phase)

	db     string    // current database
	v      verdict   // decision about the client message being fed
	timing bool      // a query's response is awaited
	qStart time.Time // when that query was forwarded
}

// verdict is what the callback decided about the client message that just
// completed.
type verdict struct {
	filters.SQLVerdict
	sslRequest bool
}

func (v verdict) refused() bool { return v.Deny || v.Close }

// takeVerdict returns the pending verdict and clears it.
func (e *evState) takeVerdict() verdict {
	v := e.v
	e.v = verdict{}
	return v
}

// onEvent is the codec session's callback; it runs under conn.mu.
func (c *conn) onEvent(ev *codec.Event) {
	st := c.f.stats
	switch ev.Kind {
	case codec.EventSSLRequest:
		st.UpgradedToSSL.Inc()
		c.ev.v.sslRequest = true
		if c.f.tls == nil {
			c.ev.stopped.Store(true) // TLS passes through; nothing more to decode
		}
	case codec.EventLogin:
		st.LoginAttempts.Inc()
		c.ev.db = string(ev.DB)
		user, db := string(ev.User), c.ev.db
		c.s.UpdateAccess(func(a *filters.AccessRecord) {
			if a.Fields == nil {
				a.Fields = make(map[string]any)
			}
			a.Fields["mysql_user"] = user
			if db != "" {
				a.Fields["mysql_db"] = db
			}
		})
	case codec.EventAuthSwitch:
		st.AuthSwitchRequest.Inc()
	case codec.EventLoginOK:
		c.ev.loggedIn.Store(true)
		c.ev.shift.Store(false)
	case codec.EventLoginFailed:
		st.LoginFailures.Inc()
		c.ev.loggedIn.Store(true)
		c.ev.shift.Store(false)
	case codec.EventCommand:
		c.command(ev)
	case codec.EventOK, codec.EventErr, codec.EventResultSet, codec.EventPrepareOK:
		if c.ev.timing && ev.Dir == codec.ServerToClient {
			c.ev.timing = false
			st.QueryTime.Record(since(c.ev.qStart))
		}
	case codec.EventDecodeError:
		st.DecoderErrors.Inc()
	case codec.EventProtocolError:
		st.ProtocolErrors.Inc()
	case codec.EventStopped:
		c.ev.stopped.Store(true)
	}
}

// command handles a client command.
func (c *conn) command(ev *codec.Event) {
	switch ev.Command {
	case gm.COM_QUERY, gm.COM_STMT_PREPARE:
		c.statement(ev)
	case gm.COM_INIT_DB:
		c.ev.db = string(ev.DB)
	}
	if (ev.Command == gm.COM_QUERY || ev.Command == gm.COM_STMT_EXECUTE) && !c.ev.v.refused() {
		c.ev.timing, c.ev.qStart = true, time.Now()
	}
}

// statement counts, parses, publishes and gates one COM_QUERY or
// COM_STMT_PREPARE.
func (c *conn) statement(ev *codec.Event) {
	st := c.f.stats
	// Classify only reads its argument during the call, so the SQL bytes
	// (valid during the callback) need not be copied for it.
	classify := func() { st.kind(sqlmysql.Classify(unsafe.String(unsafe.SliceData(ev.SQL), len(ev.SQL)))).Inc() }
	if ev.Truncated {
		st.QueriesParseError.Inc()
		classify()
		if c.gated { // cannot be checked: refuse rather than guess
			c.deny(filters.SQLVerdict{Close: true, Policy: "sluice.statement_too_long"})
		}
		return
	}
	if !c.f.cfg.parseSQL() && !c.gated {
		classify()
		return
	}
	stmts, err := sqlmysql.Parse(string(ev.SQL), c.ev.db)
	if err != nil {
		st.QueriesParseError.Inc()
		classify()
		if c.gated {
			c.deny(filters.SQLVerdict{Deny: true, Policy: "sluice.unparsed_statement"})
		}
		return
	}
	st.QueriesParsed.Inc()
	meta := make(map[string][]string)
	for i := range stmts {
		s := &stmts[i]
		st.kind(s.Kind).Inc()
		if s.Kind == "use" {
			if db := useDB(string(ev.SQL)); db != "" {
				c.ev.db = db
			}
		}
		for t, ops := range s.Tables {
			for _, op := range ops {
				meta[t] = appendOnce(meta[t], string(op))
			}
		}
	}
	c.s.SetMetadata(MetadataNamespace, meta)
	if c.gated {
		if v := c.s.CheckSQL(stmts); v.Deny || v.Close {
			c.deny(v)
		}
	}
}

// deny records a gate's refusal of the statement being fed.
func (c *conn) deny(v filters.SQLVerdict) {
	c.f.stats.StatementsDenied.Inc()
	c.ev.v.SQLVerdict = v
	c.s.UpdateAccess(func(a *filters.AccessRecord) {
		if a.Fields == nil {
			a.Fields = make(map[string]any)
		}
		if _, ok := a.Fields["rbac_policy"]; !ok {
			a.Fields["rbac_policy"] = v.Policy
		}
	})
}

func appendOnce(ops []string, op string) []string {
	for _, o := range ops {
		if o == op {
			return ops
		}
	}
	return append(ops, op)
}

// useDB returns the database of a "USE db" statement.
func useDB(sql string) string {
	f := strings.Fields(strings.TrimRight(strings.TrimSpace(sql), "; \t\n"))
	if len(f) != 2 || !strings.EqualFold(f[0], "use") {
		return ""
	}
	return strings.Trim(f[1], "`")
}
