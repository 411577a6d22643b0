package mysql

import (
	"sync/atomic"
	"time"

	gm "github.com/go-mysql-org/go-mysql/mysql"

	codec "github.com/sluice-proxy/sluice/codec/mysql"
	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/tracing"
)

// evState is what the event callback keeps for one connection. The flags
// are atomics because the reading goroutine looks at them without the
// codec lock; the rest is touched only inside the callback (under conn.mu)
// or by the reading goroutine that fed the client bytes.
type evState struct {
	stopped  atomic.Bool // the codec stopped decoding (TLS passed through, compression...)
	loggedIn atomic.Bool // the connection phase ended (login OK or ERR)
	shift    atomic.Bool // sequence ids are rewritten (TLS terminated, connection phase)

	db     string                 // current database
	badLog bool                   // a decoder or protocol error was logged
	v      verdict                // decision about the client message being fed
	timing bool                   // a query's response is awaited
	qStart time.Duration          // when that query was forwarded (mono)
	span   *tracing.StatementSpan // the statement's span, if traced (tracing.go)
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
			c.stopHandshakeTimer()
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
		c.stopHandshakeTimer()
	case codec.EventLoginFailed:
		st.LoginFailures.Inc()
		c.ev.loggedIn.Store(true)
		c.ev.shift.Store(false)
		c.stopHandshakeTimer()
	case codec.EventCommand:
		c.command(ev)
	case codec.EventOK, codec.EventErr, codec.EventResultSet, codec.EventPrepareOK:
		if c.ev.timing && ev.Dir == codec.ServerToClient {
			c.ev.timing = false
			st.QueryTime.Record(sinceMono(c.ev.qStart))
			c.endSpan(ev.Kind == codec.EventErr)
		}
	case codec.EventDecodeError:
		st.DecoderErrors.Inc()
		c.logBadInput(ev)
	case codec.EventProtocolError:
		st.ProtocolErrors.Inc()
		c.logBadInput(ev)
	case codec.EventStopped:
		c.ev.stopped.Store(true)
		c.stopHandshakeTimer()
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
		c.ev.timing, c.ev.qStart = true, mono()
		c.startSpan(ev)
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

// logBadInput logs the connection's first decoder or protocol error; the
// counters count them all. The bytes still go to the server, which answers
// or closes as it sees fit (the filter only observes).
func (c *conn) logBadInput(ev *codec.Event) {
	if c.ev.badLog || c.s.Log == nil {
		return
	}
	c.ev.badLog = true
	c.s.Log.Info("mysql_proxy: undecodable input", "kind", ev.Kind.String(), "err", ev.Err)
}
