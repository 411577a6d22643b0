package tracing_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/sluice-proxy/sluice/internal/poll"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// app is the Go upstream: it continues the trace with its own server
// span (the OpenTelemetry SDK, W3C propagation, exported to the same
// collector) and keeps the headers of each request by x-request-id.
type app struct {
	*httptest.Server
	tp   *sdktrace.TracerProvider
	mu   sync.Mutex
	seen map[string]http.Header // by the test's x-test-id header
}

func startApp(t *testing.T, col *testenv.OtelCol) *app {
	exp, err := otlptracehttp.New(context.Background(), otlptracehttp.WithEndpoint(col.HTTPAddr()), otlptracehttp.WithInsecure())
	if err != nil {
		t.Fatal(err)
	}
	res := resource.NewSchemaless(attribute.String("service.name", "app"))
	a := &app{seen: map[string]http.Header{},
		tp: sdktrace.NewTracerProvider(sdktrace.WithResource(res), sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(100*time.Millisecond)),
			sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.AlwaysSample())))}
	tr := a.tp.Tracer("app")
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := propagation.TraceContext{}.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		_, sp := tr.Start(ctx, "app-handler", trace.WithSpanKind(trace.SpanKindServer))
		a.mu.Lock()
		a.seen[r.Header.Get("X-Test-Id")] = r.Header.Clone()
		a.mu.Unlock()
		io.WriteString(w, "ok")
		sp.End()
	}))
	t.Cleanup(func() {
		a.Close()
		a.tp.Shutdown(context.Background())
	})
	return a
}

func (a *app) headers(id string) http.Header {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.seen[id]
}

// hcm is one sluice hop: a listener "l" tracing to the collector.
func hcm(upstream, col, tracing string) string {
	return fmt.Sprintf(`
listeners:
  - name: l
    address: 127.0.0.1:0
    filters:
      - http_connection_manager:
          stat_prefix: ingress
          route_config:
            virtual_hosts:
              - name: all
                domains: ["*"]
                routes:
                  - {match: {prefix: "/decorated"}, route: {cluster: up, prefix_rewrite: "/rw"}, decorator: {operation: edge-op}}
                  - {match: {prefix: "/"}, route: {cluster: up}}
          tracing: %s
clusters:
  - name: up
    connect_timeout: 1s
    endpoints: ["%s"]
  - name: otel
    connect_timeout: 1s
    endpoints: ["%s"]
`, tracing, strings.TrimPrefix(upstream, "http://"), col)
}

func get(t *testing.T, url string, hdr ...string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
}

// spansOf waits until the collector holds n spans of trace tid.
func spansOf(t *testing.T, col *testenv.OtelCol, tid string, n int) []testenv.Span {
	t.Helper()
	var got []testenv.Span
	ok := poll.Until(20*time.Second, func() bool {
		all, err := col.Spans()
		if err != nil {
			t.Fatal(err)
		}
		got = got[:0]
		for _, s := range all {
			if s.TraceID == tid {
				got = append(got, s)
			}
		}
		return len(got) >= n
	})
	if !ok {
		t.Fatalf("trace %s: %d spans, want %d: %+v", tid, len(got), n, got)
	}
	return got
}

func byName(spans []testenv.Span, name string) testenv.Span {
	for _, s := range spans {
		if s.Name == name {
			return s
		}
	}
	return testenv.Span{}
}

func byService(spans []testenv.Span, service, name string) testenv.Span {
	for _, s := range spans {
		if s.Service == service && s.Name == name {
			return s
		}
	}
	return testenv.Span{}
}

// traceIDOf is the trace id of a traceparent header.
func traceIDOf(tp string) string {
	p := strings.Split(tp, "-")
	if len(p) != 4 {
		return ""
	}
	return p[1]
}

func itoa(i int) string { return fmt.Sprint(i) }
