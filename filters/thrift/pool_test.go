package thrift_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/thrifttest"
)

// TestSharedUpstream: 16 clients whose sequence ids collide (every Go
// client counts from 1) share 2 upstream connections; every reply reaches
// the client that asked.
func TestSharedUpstream(t *testing.T) {
	srv := thrifttest.StartServer(t, "mux", framedBinary)
	s := sluicetest.Start(t, proxyYAML(`stat_prefix: sh
max_upstream_connections_per_host: 2
max_requests_per_upstream_connection: 16
route_config:
  routes:
    - match: {method_name: ""}
      route: {cluster: mux}`, clusterYAML("mux", "", srv.Addr)))
	const clients, calls = 16, 50
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for i := 0; i < clients; i++ {
		c := thrifttest.Dial(t, s.Addr("thrift"), framedBinary, "")
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < calls; j++ {
				want := fmt.Sprintf("client %d call %d", i, j)
				if got, err := c.Echo(context.Background(), want); err != nil || got != want {
					errs <- fmt.Errorf("%s: got %q, %v", want, got, err)
					return
				}
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := s.Counter("cluster.mux.upstream_cx_total"); n < 1 || n > 2 {
		t.Fatalf("upstream_cx_total %d, want 1 or 2 shared connections", n)
	}
	wantCounters(t, s, map[string]uint64{"thrift.sh.response_success": clients * calls, "cluster.mux.thrift.upstream_rq_call": clients * calls})
}

// TestOutlierSeesReplies: declared exceptions are errors to outlier
// detection (Envoy's ExtOriginRequestFailed): three in a row eject the host.
func TestOutlierSeesReplies(t *testing.T) {
	srv := thrifttest.StartServer(t, "od", framedBinary)
	s := sluicetest.Start(t, proxyYAML(`stat_prefix: od
route_config:
  routes:
    - match: {method_name: ""}
      route: {cluster: od}`, clusterYAML("od", "", srv.Addr)+`
  healthy_panic_threshold: 0
  outlier_detection: {consecutive_5xx: 3, interval: 1s, base_ejection_time: 30s, max_ejection_percent: 100}`))
	c := thrifttest.Dial(t, s.Addr("thrift"), framedBinary, "")
	for i := 0; i < 2; i++ {
		c.Fail(context.Background(), 1)
	}
	if _, err := c.Add(context.Background(), 1, 1); err != nil { // a success resets the count
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		c.Fail(context.Background(), 1)
	}
	wantCounters(t, s, map[string]uint64{"cluster.od.outlier_detection.ejections_enforced_consecutive_5xx": 1, "thrift.od.response_error": 5})
	// The only host is ejected: the next call is answered locally.
	if _, err := c.Add(context.Background(), 1, 1); err == nil {
		t.Fatal("call succeeded with the only host ejected")
	}
	wantCounters(t, s, map[string]uint64{"thrift.od.no_healthy_upstream": 1})
}
