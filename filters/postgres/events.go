package postgres

import (
	"bytes"

	"github.com/jackc/pgx/v5/pgproto3"

	pg "github.com/sluice-proxy/sluice/codec/postgres"
)

// front counts one decoded client message and handles its SQL. The startup
// message and CancelRequest are not counted, as in Envoy; encryption
// requests are.
func (c *conn) front(m *pg.Message) error {
	st := c.f.stats
	switch m.Kind {
	case pg.KindStartupMessage, pg.KindCancelRequest, pg.KindTLS:
		return nil
	}
	c.ftally.msgs++ // messages, messages_frontend (flushed per chunk)
	c.traceFront(m)
	switch m.Kind {
	case pg.KindTerminate:
		// A session that ends inside a transaction rolls it back.
		if c.inTx.Swap(false) {
			st.TransactionsRollback.Inc()
		}
	case pg.KindQuery, pg.KindParse:
		v := c.query(m.SQL, m.Truncated)
		if c.g != nil {
			c.g.verdict = v
		}
	}
	return nil
}

// back counts one decoded server message.
func (c *conn) back(m *pg.Message) error {
	st := c.f.stats
	if m.Kind == pg.KindEncryptionAnswer {
		// Envoy counts an encrypted session at the SSLRequest; sluice at
		// the server's 'S', so that a refused request is not counted.
		if m.Type == 'S' || m.Type == 'G' {
			st.Sessions.Inc()
			st.SessionsEncrypted.Inc()
		}
		return nil
	}
	c.btally.msgs++ // messages, messages_backend (flushed per chunk)
	c.traceBack(m)
	switch m.Kind {
	case pg.KindAuthenticationOk:
		st.Sessions.Inc()
		st.SessionsUnencrypted.Inc()
	case pg.KindCommandComplete:
		c.commandComplete(m.Tag())
	case pg.KindErrorResponse:
		sev, _, _, _ := m.ErrorFields()
		st.Errors.Inc()
		st.errorSeverity(sev).Inc()
	case pg.KindNoticeResponse:
		sev, _, _, _ := m.ErrorFields()
		st.Notices.Inc()
		st.noticeSeverity(sev).Inc()
	case pg.KindBackendKeyData:
		if kd, ok := m.Body.(*pgproto3.BackendKeyData); ok && c.route != "" {
			c.f.cancels.add(kd.ProcessID, string(kd.SecretKey), c.route)
			c.keyMu.Lock()
			c.keys = append(c.keys, cancelKey{kd.ProcessID, string(kd.SecretKey)})
			c.keyMu.Unlock()
		}
	}
	return nil
}

// commandComplete counts a statement and Envoy's transactions from the
// command tag's first word: BEGIN and START open a transaction, COMMIT and
// ROLLBACK close it, and any other statement outside a transaction is an
// implicit transaction, counted as begun and committed. The counts go to
// the server side's tally, flushed after the chunk.
func (c *conn) commandComplete(tag []byte) {
	t := &c.btally
	word := tag
	if i := bytes.IndexByte(tag, ' '); i >= 0 {
		word = tag[:i]
	}
	t.stmts++
	switch string(word) {
	case "BEGIN", "START":
		t.kind[stmtOther]++
		if !c.inTx.Swap(true) {
			t.tx++
		}
	case "ROLLBACK":
		t.kind[stmtOther]++
		if c.inTx.Swap(false) {
			c.f.stats.TransactionsRollback.Inc()
		}
	case "COMMIT":
		t.kind[stmtOther]++
		c.inTx.Store(false)
		t.commit++
	default:
		t.kind[stmtKindOf(word)]++
		if !c.inTx.Load() {
			t.tx++
			t.commit++
		}
	}
}
