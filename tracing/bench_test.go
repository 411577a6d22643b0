package tracing

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// benchHTTP is a tracer whose exporter has no cluster: spans are queued
// and dropped by the batch processor off the request path, so the
// benchmarks measure what a request pays.
func benchHTTP(b *testing.B, random float64) *HTTP {
	cfg := &Config{RandomSampling: &random, SpawnUpstreamSpan: true,
		Provider: Provider{OpenTelemetry: &OpenTelemetry{GRPCService: &GRPCService{}}}}
	cfg.Provider.OpenTelemetry.GRPCService.EnvoyGRPC.ClusterName = "none"
	h, err := NewHTTP(cfg, Deps{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close() })
	return h
}

func benchRequest(b *testing.B, h *HTTP) {
	r := httptest.NewRequest("GET", "http://example.com/a/b?c=d", nil)
	r.Header.Set("X-Request-Id", "6b1c1e4e-2b5d-4e39-9d0f-3f3a8a4c6a21")
	up := http.Header{}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r.Header.Set("X-Request-Id", "6b1c1e4e-2b5d-4e39-9d0f-3f3a8a4c6a21")
		_, sp := h.Start(r, "")
		end := sp.Upstream(up, "backend")
		end(200)
		sp.Finish(Info{Req: r, Scheme: "http", Status: 200, Cluster: "backend"})
	}
}

// BenchmarkSampledRequest is a traced request's cost: decision, ingress
// span, upstream span, injection, Envoy's tags, both spans queued.
func BenchmarkSampledRequest(b *testing.B) { benchRequest(b, benchHTTP(b, 100)) }

// BenchmarkUnsampledRequest is an untraced request's cost (0% sampling):
// decision, non-recording spans, traceparent injected with flag 00.
func BenchmarkUnsampledRequest(b *testing.B) { benchRequest(b, benchHTTP(b, 0)) }

// BenchmarkSampledParallel is BenchmarkSampledRequest from every core at
// once (contention in the SDK: ID generation, the batch queue).
func BenchmarkSampledParallel(b *testing.B) {
	h := benchHTTP(b, 100)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		r := httptest.NewRequest("GET", "http://example.com/a/b?c=d", nil)
		up := http.Header{}
		for pb.Next() {
			r.Header.Set("X-Request-Id", "6b1c1e4e-2b5d-4e39-9d0f-3f3a8a4c6a21")
			_, sp := h.Start(r, "")
			end := sp.Upstream(up, "backend")
			end(200)
			sp.Finish(Info{Req: r, Scheme: "http", Status: 200, Cluster: "backend"})
		}
	})
}
