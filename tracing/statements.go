package tracing

import (
	"bytes"
	"context"
	"math/rand/v2"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/sluice-proxy/sluice/config"
)

// StatementConfig is a datastore filter's `tracing` (sluice's, beyond
// Envoy): a span per statement or command, off unless enabled.
type StatementConfig struct {
	// Enabled turns the spans on.
	Enabled bool `yaml:"enabled" json:"enabled"`
	// Sample is the percent of statements without a client trace context
	// that start a trace (each its own). Nil means 100. A statement that
	// carries a sampled traceparent (sqlcommenter) is always traced.
	Sample *float64 `yaml:"sample" json:"sample,omitempty"`
	// Provider is where spans go, as for http_connection_manager.
	Provider Provider `yaml:"provider" json:"provider"`
}

// Validate checks the config; path is the tracing field's.
func (c *StatementConfig) Validate(path string, errs *config.Errors) {
	if c.Sample != nil && (*c.Sample < 0 || *c.Sample > 100) {
		errs.Add(config.Join(path, "sample"), "must be between 0 and 100 (got %v)", *c.Sample)
	}
	if !c.Enabled {
		return
	}
	if c.Provider.OpenTelemetry == nil {
		errs.Add(config.Join(path, "provider"), "required: opentelemetry")
		return
	}
	c.Provider.OpenTelemetry.validate(config.Join(path, "provider.opentelemetry"), errs)
}

// ClusterRefs names the exporter's cluster for the loader's check.
func (c *StatementConfig) ClusterRefs(path string) []config.ClusterRef {
	if !c.Enabled {
		return nil
	}
	return (&Config{Provider: c.Provider}).ClusterRefs(path)
}

// Statements makes the spans of one datastore filter. A nil *Statements
// makes none, so filters call it unconditionally.
type Statements struct {
	p      *Pipeline
	sample uint64 // per 10,000
	system attribute.KeyValue
}

// NewStatements builds the spans of cfg for a filter of system ("redis",
// "postgresql", "mysql", "kafka"); nil when cfg is nil or not enabled.
func NewStatements(cfg *StatementConfig, system string, d Deps) (*Statements, error) {
	if cfg == nil || !cfg.Enabled {
		return nil, nil
	}
	p, err := NewPipeline(cfg.Provider.OpenTelemetry, d)
	if err != nil {
		return nil, err
	}
	key := "db.system.name"
	if system == "kafka" {
		key = "messaging.system"
	}
	return &Statements{p: p, sample: per10k(cfg.Sample), system: attribute.String(key, system)}, nil
}

// Close flushes and stops the exporter.
func (s *Statements) Close() error {
	if s == nil {
		return nil
	}
	return s.p.Close()
}

// Pipeline is the export pipeline (Flush in tests).
func (s *Statements) Pipeline() *Pipeline { return s.p }

// StatementSpan is one statement's span; nil when not traced (End is
// safe on nil).
type StatementSpan struct{ span trace.Span }

// Start begins the span of one statement: op names it ("GET", "SELECT"),
// text is the statement (kept as db.query.text; "" to leave it out). A
// statement whose text carries an sqlcommenter traceparent joins that
// trace; others start their own, sampled at Sample. Unsampled statements
// cost a random draw and no allocation.
func (s *Statements) Start(op, text string) *StatementSpan {
	if s == nil {
		return nil
	}
	ctx := context.Background()
	if tp := sqlCommentTraceparent(text); tp != "" {
		ctx = propagation.TraceContext{}.Extract(ctx, propagation.MapCarrier{"traceparent": tp})
	}
	if !trace.SpanContextFromContext(ctx).IsValid() {
		if rand.Uint64N(10000) >= s.sample {
			return nil
		}
		ctx = withDecision(ctx, true)
	}
	_, sp := s.p.tracer.Start(ctx, op, trace.WithSpanKind(trace.SpanKindClient))
	if !sp.IsRecording() {
		return nil
	}
	sp.SetAttributes(s.system, attribute.String("db.operation.name", op))
	if text != "" {
		if len(text) > 2048 {
			text = text[:2048]
		}
		sp.SetAttributes(attribute.String("db.query.text", text))
	}
	return &StatementSpan{span: sp}
}

// End ends the span; failed marks an error reply.
func (sp *StatementSpan) End(failed bool) {
	if sp == nil {
		return
	}
	if failed {
		sp.span.SetAttributes(attribute.String("error", "true"))
		sp.span.SetStatus(codes.Error, "")
	}
	sp.span.End()
}

// sqlCommentTraceparent finds sqlcommenter's traceparent='...' in a SQL
// comment (/*traceparent='00-...-01'*/), the way ORMs and drivers pass a
// trace context to the database; "" when absent.
func sqlCommentTraceparent(q string) string {
	i := strings.Index(q, "traceparent=")
	if i < 0 || !strings.Contains(q[:i], "/*") {
		return ""
	}
	v := q[i+len("traceparent="):]
	if len(v) < 2 || v[0] != '\'' {
		return ""
	}
	v = v[1:]
	j := strings.IndexByte(v, '\'')
	if j < 0 {
		return ""
	}
	// sqlcommenter URL-encodes values; a traceparent has nothing to
	// encode, so its text is as sent.
	return v[:j]
}

// Operation is the SQL's first keyword in upper case, past comments and
// spaces ("" if none).
func Operation(sql []byte) string {
	for {
		sql = bytes.TrimLeft(sql, " \t\r\n(")
		switch {
		case bytes.HasPrefix(sql, []byte("/*")):
			i := bytes.Index(sql, []byte("*/"))
			if i < 0 {
				return ""
			}
			sql = sql[i+2:]
		case bytes.HasPrefix(sql, []byte("--")), bytes.HasPrefix(sql, []byte("#")):
			i := bytes.IndexByte(sql, '\n')
			if i < 0 {
				return ""
			}
			sql = sql[i+1:]
		default:
			end := 0
			for end < len(sql) && (sql[end] >= 'a' && sql[end] <= 'z' || sql[end] >= 'A' && sql[end] <= 'Z') {
				end++
			}
			if end == 0 || end > 16 {
				return ""
			}
			return string(bytes.ToUpper(sql[:end]))
		}
	}
}
