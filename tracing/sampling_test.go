package tracing

import (
	"context"
	"net/http"
	"testing"

	"go.opentelemetry.io/otel/trace"
)

func pct(v float64) *float64 { return &v }

// TestDecide follows Envoy's mutateTracingRequestHeader case by case.
func TestDecide(t *testing.T) {
	const low = "00000001-0000-4000-8000-000000000000"  // 1 % 10000: sampled at any rate above 0.01%
	const high = "0000270f-0000-4000-8000-000000000000" // 9999 % 10000: sampled at 100% only
	tests := []struct {
		name          string
		cfg           Config
		rid           string
		client, force bool
		want          Reason
	}{
		{"default 100%", Config{}, high, false, false, Sampling},
		{"0% random", Config{RandomSampling: pct(0)}, low, false, false, NotTraceable},
		{"1% random, low id", Config{RandomSampling: pct(1)}, low, false, false, Sampling},
		{"1% random, high id", Config{RandomSampling: pct(1)}, high, false, false, NotTraceable},
		{"forced at 0%", Config{RandomSampling: pct(0)}, high, false, true, ServiceForced},
		{"client at 0%", Config{RandomSampling: pct(0)}, high, true, true, ClientForced},
		{"client sampling 0% falls to force", Config{RandomSampling: pct(0), ClientSampling: pct(0)}, high, true, true, ServiceForced},
		{"overall caps forced", Config{OverallSampling: pct(50)}, high, false, true, NotTraceable},
		{"earlier hop decided", Config{RandomSampling: pct(0)}, "0000270f-0000-9000-8000-000000000000", false, false, Sampling},
		{"not a uuid", Config{}, "abc", false, true, NotTraceable},
		{"no id", Config{}, "", false, true, NotTraceable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, rid := newSampling(&tt.cfg).Decide(tt.rid, tt.client, tt.force)
			if got != tt.want {
				t.Fatalf("reason %d, want %d", got, tt.want)
			}
			if ReasonOf(rid) != got {
				t.Fatalf("x-request-id %q carries %d, want %d", rid, ReasonOf(rid), got)
			}
		})
	}
}

// TestExtract reads each format and prefers W3C when several are present.
func TestExtract(t *testing.T) {
	const tid = "4bf92f3577b34da6a3ce929d0e0e4736"
	tests := []struct {
		name    string
		h       http.Header
		tid     string
		sampled bool
	}{
		{"w3c", http.Header{"Traceparent": {"00-" + tid + "-00f067aa0ba902b7-01"}}, tid, true},
		{"w3c unsampled", http.Header{"Traceparent": {"00-" + tid + "-00f067aa0ba902b7-00"}}, tid, false},
		{"b3 single", http.Header{"B3": {tid + "-00f067aa0ba902b7-1"}}, tid, true},
		{"b3 multi", http.Header{"X-B3-Traceid": {tid}, "X-B3-Spanid": {"00f067aa0ba902b7"}, "X-B3-Sampled": {"0"}}, tid, false},
		{"xray", http.Header{"X-Amzn-Trace-Id": {"Root=1-4bf92f35-77b34da6a3ce929d0e0e4736;Parent=00f067aa0ba902b7;Sampled=1"}}, tid, true},
		{"w3c wins", http.Header{"Traceparent": {"00-" + tid + "-00f067aa0ba902b7-01"}, "B3": {"11111111111111111111111111111111-00f067aa0ba902b7-0"}}, tid, true},
		{"bad w3c falls to b3", http.Header{"Traceparent": {"zz"}, "B3": {tid + "-00f067aa0ba902b7-1"}}, tid, true},
		{"garbage", http.Header{"Traceparent": {"00-xyz"}, "X-Amzn-Trace-Id": {"Root=nope"}}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := trace.SpanContextFromContext(Extract(context.Background(), tt.h))
			if tt.tid == "" {
				if sc.IsValid() {
					t.Fatalf("extracted %v from garbage", sc)
				}
				return
			}
			if sc.TraceID().String() != tt.tid || sc.IsSampled() != tt.sampled || !sc.IsRemote() {
				t.Fatalf("got %s sampled=%v remote=%v", sc.TraceID(), sc.IsSampled(), sc.IsRemote())
			}
		})
	}
}
