package tracing

import (
	"context"
	"net/http"

	"go.opentelemetry.io/contrib/propagators/aws/xray"
	"go.opentelemetry.io/contrib/propagators/b3"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// injectors are the formats sluice can write upstream, by the names
// OTEL_PROPAGATORS uses.
var injectors = map[string]propagation.TextMapPropagator{
	"tracecontext": propagation.TraceContext{},
	"b3":           b3.New(b3.WithInjectEncoding(b3.B3SingleHeader)),
	"b3multi":      b3.New(b3.WithInjectEncoding(b3.B3MultipleHeader)),
	"xray":         xray.Propagator{},
}

// extractors are tried in order; the first valid context wins: W3C
// traceparent (with tracestate), B3 (the single b3 header, then
// x-b3-*), AWS X-Ray's X-Amzn-Trace-Id.
var extractors = []struct {
	keys []string // a format is tried only when one of its headers is there
	p    propagation.TextMapPropagator
}{
	{[]string{"Traceparent"}, propagation.TraceContext{}},
	{[]string{"B3", "X-B3-Traceid"}, b3.New()},
	{[]string{"X-Amzn-Trace-Id"}, xray.Propagator{}},
}

// Extract returns ctx with the remote span context of the first format
// h carries, if any.
func Extract(ctx context.Context, h http.Header) context.Context {
	c := propagation.HeaderCarrier(h)
	for _, e := range extractors {
		if !hasAny(h, e.keys) {
			continue
		}
		if out := e.p.Extract(ctx, c); trace.SpanContextFromContext(out).IsValid() {
			return out
		}
	}
	return ctx
}

func hasAny(h http.Header, keys []string) bool {
	for _, k := range keys {
		if _, ok := h[k]; ok {
			return true
		}
	}
	return false
}

// inject writes sc into h in each named format.
func inject(ctx context.Context, names []string, h http.Header) {
	c := propagation.HeaderCarrier(h)
	for _, n := range names {
		if n == "b3multi" {
			// The client's x-b3-parentspanid names its span's parent, not
			// ours; the propagator writes none.
			h.Del("X-B3-Parentspanid")
		}
		injectors[n].Inject(ctx, c)
	}
}
