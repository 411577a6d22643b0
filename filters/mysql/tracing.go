package mysql

import (
	gm "github.com/go-mysql-org/go-mysql/mysql"

	codec "github.com/sluice-proxy/sluice/codec/mysql"
	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/tracing"
)

// Statement spans (config `tracing`, sluice's, off by default): a span
// from each COM_QUERY or COM_STMT_EXECUTE forwarded to the server's OK,
// ERR or result set (MySQL answers one command at a time), named by the
// statement's first keyword (EXECUTE for a prepared statement), marked
// failed on ERR, joining the trace of an sqlcommenter traceparent comment.
// Both calls run under the connection's codec lock.
func (c *conn) startSpan(ev *codec.Event) {
	if c.f.spans == nil {
		return
	}
	c.ev.span.End(false) // a command left unanswered (should not happen)
	op, text := "EXECUTE", ""
	if ev.Command == gm.COM_QUERY {
		text = string(ev.SQL)
		if w := tracing.Operation(ev.SQL); w != "" {
			op = w
		}
	}
	c.ev.span = c.f.spans.Start(op, text)
}

func (c *conn) endSpan(failed bool) {
	c.ev.span.End(failed)
	c.ev.span = nil
}

// ClusterRefs names the tracing exporter's cluster for the loader's check.
func (c *Config) ClusterRefs(path string) []config.ClusterRef {
	if c.Tracing == nil {
		return nil
	}
	return c.Tracing.ClusterRefs(config.Join(path, "tracing"))
}
