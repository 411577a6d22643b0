package tracing

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// HTTP is one http_connection_manager's tracing: the sampling policy, the
// tags and the provider. Safe for concurrent use.
type HTTP struct {
	cfg      *Config
	p        *Pipeline
	sampling sampling
	static   []attribute.KeyValue // component, node_id, zone, literal and environment tags
	maxPath  int
}

// NewHTTP builds the tracing of a validated config.
func NewHTTP(cfg *Config, d Deps) (*HTTP, error) {
	p, err := NewPipeline(cfg.Provider.OpenTelemetry, d)
	if err != nil {
		return nil, err
	}
	h := &HTTP{cfg: cfg, p: p, sampling: newSampling(cfg), maxPath: int(cfg.MaxPathTagLength)}
	if h.maxPath == 0 {
		h.maxPath = 256
	}
	h.static = []attribute.KeyValue{attribute.String("component", "proxy"),
		attribute.String("node_id", d.NodeID), attribute.String("zone", d.Zone)}
	for _, t := range cfg.CustomTags {
		switch {
		case t.Literal != nil:
			h.static = append(h.static, attribute.String(t.Tag, t.Literal.Value))
		case t.Environment != nil:
			if v := env(t.Environment); v != "" {
				h.static = append(h.static, attribute.String(t.Tag, v))
			}
		}
	}
	return h, nil
}

// Close flushes and stops the exporter.
func (h *HTTP) Close() error { return h.p.Close() }

// Pipeline is the tracer's export pipeline (Flush in tests).
func (h *HTTP) Pipeline() *Pipeline { return h.p }

// Span is one request's ingress span. Its methods are called from the
// request's goroutines in order (start, upstream, finish).
type Span struct {
	h     *HTTP
	span  trace.Span
	ctx   context.Context
	start time.Time
	path  string // host and path as received (a route may rewrite the path)
}

// Start makes Envoy's tracing decision for r (setting the reason in its
// x-request-id), takes the trace context the request carries in any
// format, and starts the ingress span, named operation (the route's
// decorator) or "ingress". The returned context carries the span.
func (h *HTTP) Start(r *http.Request, operation string) (context.Context, *Span) {
	rid := r.Header.Get("X-Request-Id")
	_, hasClient := r.Header["X-Client-Trace-Id"]
	_, force := r.Header["X-Envoy-Force-Trace"]
	reason, nrid := h.sampling.Decide(rid, hasClient, force)
	if nrid != rid {
		r.Header.Set("X-Request-Id", nrid)
	}
	if op := r.Header.Get("X-Envoy-Decorator-Operation"); op != "" {
		operation = op // an upstream proxy's decorator names this hop's span (Envoy's ingress rule)
	}
	r.Header.Del("X-Envoy-Decorator-Operation")
	if operation == "" {
		operation = "ingress"
	}
	ctx := withDecision(Extract(r.Context(), r.Header), reason != NotTraceable)
	now := time.Now()
	ctx, sp := h.p.tracer.Start(ctx, operation, trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(now))
	s := &Span{h: h, span: sp, ctx: ctx, start: now}
	if sp.IsRecording() {
		sp.SetAttributes(h.static...)
		s.path = r.Host + r.URL.RequestURI()
	}
	return ctx, s
}

// Sampled reports whether the span is exported.
func (s *Span) Sampled() bool { return s != nil && s.span.SpanContext().IsSampled() }

// Upstream writes the trace context into an upstream request's headers,
// in the configured formats. With spawn_upstream_span it first starts the
// child span "router <cluster> egress"; the returned func ends it with the
// upstream's status (0: no response) and is never nil.
func (s *Span) Upstream(h http.Header, cluster string) func(status int) {
	if s == nil {
		return func(int) {}
	}
	ctx, end := s.ctx, func(int) { s.Event("upstream response") }
	s.Event("upstream request")
	if s.h.cfg.SpawnUpstreamSpan {
		var up trace.Span
		ctx, up = s.h.p.tracer.Start(s.ctx, "router "+cluster+" egress", trace.WithSpanKind(trace.SpanKindClient))
		if up.IsRecording() {
			up.SetAttributes(s.h.static...)
			up.SetAttributes(attribute.String("upstream_cluster", cluster), attribute.String("upstream_cluster.name", cluster))
		}
		end = func(status int) {
			s.Event("upstream response")
			if up.IsRecording() {
				if status > 0 {
					up.SetAttributes(attribute.String("http.status_code", strconv.Itoa(status)))
				}
				if status == 0 || status >= 500 {
					up.SetAttributes(attribute.String("error", "true"))
					up.SetStatus(codes.Error, "")
				}
			}
			up.End()
		}
	}
	inject(ctx, s.h.p.inject, h)
	return end
}

// Event adds a verbose event (Envoy's verbose: one per stage).
func (s *Span) Event(name string) {
	if s != nil && s.h.cfg.Verbose && s.span.IsRecording() {
		s.span.AddEvent(name)
	}
}

// Info is what the connection manager knows of a finished request.
type Info struct {
	Req           *http.Request
	Scheme        string // http or https
	Status        int    // 0: no response
	Flags         string // Envoy's short response flags, "" or "-" for none
	Cluster       string
	UpstreamHost  string
	Peer          string
	BytesReceived int64
	BytesSent     int64
}

// Finish sets Envoy's tags on the ingress span and ends it.
func (s *Span) Finish(in Info) {
	if s == nil {
		return
	}
	if !s.span.IsRecording() {
		s.span.End()
		return
	}
	r := in.Req
	url := in.Scheme + "://" + s.path
	if len(url) > s.h.maxPath {
		url = url[:s.h.maxPath]
	}
	dc := r.Header.Get("X-Envoy-Downstream-Service-Cluster")
	if dc == "" {
		dc = "-"
	}
	ua := r.Header.Get("User-Agent")
	if ua == "" {
		ua = "-"
	}
	flags := in.Flags
	if flags == "" {
		flags = "-"
	}
	attrs := []attribute.KeyValue{
		attribute.String("http.url", url), attribute.String("http.method", r.Method),
		attribute.String("downstream_cluster", dc), attribute.String("user_agent", ua),
		attribute.String("http.protocol", r.Proto), attribute.String("peer.address", in.Peer),
		attribute.String("guid:x-request-id", r.Header.Get("X-Request-Id")),
		attribute.String("request_size", strconv.FormatInt(in.BytesReceived, 10)),
		attribute.String("response_size", strconv.FormatInt(in.BytesSent, 10)),
		attribute.String("response_flags", flags),
	}
	if v := r.Header.Get("X-Client-Trace-Id"); v != "" {
		attrs = append(attrs, attribute.String("guid:x-client-trace-id", v))
	}
	if in.Status > 0 {
		attrs = append(attrs, attribute.String("http.status_code", strconv.Itoa(in.Status)))
	}
	if in.Cluster != "" {
		attrs = append(attrs, attribute.String("upstream_cluster", in.Cluster), attribute.String("upstream_cluster.name", in.Cluster))
	}
	if in.UpstreamHost != "" {
		attrs = append(attrs, attribute.String("upstream_address", in.UpstreamHost))
	}
	for _, t := range s.h.cfg.CustomTags {
		if t.RequestHeader == nil {
			continue
		}
		v := r.Header.Get(t.RequestHeader.Name)
		if v == "" {
			v = t.RequestHeader.DefaultValue
		}
		if v != "" {
			attrs = append(attrs, attribute.String(t.Tag, v))
		}
	}
	if in.Status == 0 || in.Status >= 500 {
		attrs = append(attrs, attribute.String("error", "true"))
		s.span.SetStatus(codes.Error, "")
	}
	s.span.SetAttributes(attrs...)
	s.span.End()
}
