package tracing

import (
	"context"
	"net/http"
	"testing"
)

// FuzzRequest feeds arbitrary trace headers and request ids through the
// decision and the extractors, and SQL through the sqlcommenter and
// operation readers: nothing may panic, and a decided id keeps its length.
func FuzzRequest(f *testing.F) {
	f.Add("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
		"Root=1-4bf92f35-77b34da6a3ce929d0e0e4736;Parent=00f067aa0ba902b7;Sampled=1", "6b1c1e4e-2b5d-4e39-9d0f-3f3a8a4c6a21")
	f.Add("", "0", "Root=", "")
	f.Fuzz(func(t *testing.T, tp, b3, xray, rid string) {
		h := http.Header{"Traceparent": {tp}, "B3": {b3}, "X-Amzn-Trace-Id": {xray}, "X-B3-Traceid": {b3}}
		Extract(context.Background(), h)
		if got := sqlCommentTraceparent("/*traceparent='" + tp + "'*/ " + b3); got != "" && len(got) > len(tp)+len(b3) {
			t.Fatalf("traceparent %q longer than its input", got)
		}
		Operation([]byte(xray))
		_, out := newSampling(&Config{}).Decide(rid, len(tp)%2 == 0, len(b3)%2 == 0)
		if len(out) != len(rid) {
			t.Fatalf("id %q became %q", rid, out)
		}
	})
}
