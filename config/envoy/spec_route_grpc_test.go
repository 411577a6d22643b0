package envoy

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/router"
)

// TestRouteGrpcTimeoutTranslation loads Envoy's gRPC deadline fields of a
// RouteAction (max_grpc_timeout, grpc_timeout_offset, max_stream_duration)
// and checks the compiled routes apply them to a gRPC request.
func TestRouteGrpcTimeoutTranslation(t *testing.T) {
	rc, _, err := translateRoutes(t, `
virtual_hosts:
- name: v
  domains: ["*"]
  routes:
  - match: {prefix: /old, grpc: {}}
    route: {cluster: c, max_grpc_timeout: 2s, grpc_timeout_offset: 0.1s}
  - match: {prefix: /}
    route: {cluster: c, max_stream_duration: {max_stream_duration: 60s, grpc_timeout_header_max: 10s, grpc_timeout_header_offset: 1s}}
`)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := router.Compile(rc)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path string
		want router.Timeouts
	}{
		{"/old/M", router.Timeouts{Route: 400 * time.Millisecond, GRPC: true}},
		{"/x/M", router.Timeouts{Route: router.DefaultTimeout, Stream: 4 * time.Second}},
	} {
		req := httptest.NewRequest("POST", c.path, nil)
		req.Header.Set("Content-Type", "application/grpc")
		req.Header.Set("Grpc-Timeout", "500m")
		if c.path == "/x/M" {
			req.Header.Set("Grpc-Timeout", "5S")
		}
		if got := tbl.Route(req).RequestTimeouts(req.Header); got != c.want {
			t.Errorf("%s: got %+v, want %+v", c.path, got, c.want)
		}
	}
}
