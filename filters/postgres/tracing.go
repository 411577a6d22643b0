package postgres

import (
	"sync"

	pg "github.com/sluice-proxy/sluice/codec/postgres"
	"github.com/sluice-proxy/sluice/tracing"
)

// Query spans (config `tracing`, sluice's, off by default). A span starts
// at each message the server answers with one ReadyForQuery (a simple
// Query; a Sync ending an extended-protocol batch) and ends at that
// ReadyForQuery, marked failed when an ErrorResponse came in between.
// It is named by the SQL's first word (a batch: its last Parse's, or
// EXECUTE for prepared statements run again) and joins the trace of an
// sqlcommenter traceparent comment in the SQL. The client side adds to
// the queue and the server side takes from it, on their own goroutines.
type spanQueue struct {
	mu     sync.Mutex
	q      []*tracing.StatementSpan
	parse  []byte // the last Parse's SQL since the last Sync (client side)
	failed bool   // an ErrorResponse since the last ReadyForQuery (server side)
}

// maxQueuedSpans bounds the spans of a pipelining client awaiting their
// ReadyForQuery; beyond it queries go untraced.
const maxQueuedSpans = 256

func (c *conn) traceFront(m *pg.Message) {
	sp := c.f.spans
	if sp == nil || c.spans == nil {
		return
	}
	var sql []byte
	switch m.Kind {
	case pg.KindParse:
		c.spans.parse = append(c.spans.parse[:0], m.SQL...)
		return
	case pg.KindQuery:
		sql = m.SQL
	case pg.KindSync:
		sql = c.spans.parse
	default:
		return
	}
	op := "EXECUTE"
	if w := tracing.Operation(sql); w != "" {
		op = w
	}
	s := sp.Start(op, string(sql))
	c.spans.parse = c.spans.parse[:0]
	c.spans.mu.Lock()
	if len(c.spans.q) < maxQueuedSpans {
		c.spans.q = append(c.spans.q, s) // nil (unsampled) too: it keeps the pairing
	}
	c.spans.mu.Unlock()
}

func (c *conn) traceBack(m *pg.Message) {
	if c.spans == nil {
		return
	}
	switch m.Kind {
	case pg.KindErrorResponse:
		c.spans.failed = true
	case pg.KindReadyForQuery:
		c.spans.mu.Lock()
		var s *tracing.StatementSpan
		ok := len(c.spans.q) > 0
		if ok {
			s = c.spans.q[0]
			c.spans.q = c.spans.q[1:]
		}
		c.spans.mu.Unlock()
		if ok { // the startup ReadyForQuery answers no query
			s.End(c.spans.failed)
		}
		c.spans.failed = false
	}
}
