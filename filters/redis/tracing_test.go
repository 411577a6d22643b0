package redis_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sluice-proxy/sluice/internal/poll"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// TestCommandSpans: with tracing enabled every command of a go-redis
// client through sluice to a real redis-server becomes a span in the
// collector, named by the command, its own trace, an error reply marked;
// without it none are made.
func TestCommandSpans(t *testing.T) {
	srv := testenv.Redis(t)
	col := testenv.StartOtelCol(t)
	s := sluicetest.Start(t, fmt.Sprintf(`
listeners:
  - name: traced
    address: 127.0.0.1:0
    filters:
      - redis_proxy:
          stat_prefix: traced
          settings: {op_timeout: 2s}
          prefix_routes: {catch_all_route: {cluster: up}}
          tracing:
            enabled: true
            provider: {opentelemetry: {service_name: redis-edge, grpc_service: {envoy_grpc: {cluster_name: otel}}, flush_interval: 100ms}}
clusters:
  - {name: up, connect_timeout: 1s, endpoints: ["%s"]}
  - {name: otel, connect_timeout: 1s, endpoints: ["%s"]}
`, srv.Addr(), col.GRPCAddr()))
	c := goredis.NewClient(&goredis.Options{Addr: s.Addr("traced"), Protocol: 2, DisableIdentity: true})
	defer c.Close()
	ctx := context.Background()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if v, err := c.Get(ctx, "k").Result(); err != nil || v != "v" {
			t.Fatalf("GET: %q %v", v, err)
		}
	}
	if v, err := c.MGet(ctx, "k", "missing").Result(); err != nil || len(v) != 2 || v[0] != "v" {
		t.Fatalf("MGET: %v %v", v, err)
	}
	if err := c.Incr(ctx, "k").Err(); err == nil {
		t.Fatal("INCR of a string succeeded")
	}
	count := map[string]int{}
	traces := map[string]bool{}
	var incrErr bool
	ok := poll.Until(20*time.Second, func() bool {
		spans, _ := col.Spans()
		clear(count)
		clear(traces)
		for _, sp := range spans {
			if sp.Service != "redis-edge" {
				continue
			}
			count[sp.Name]++
			traces[sp.TraceID] = true
			if sp.Name == "INCR" {
				incrErr = sp.Attrs["error"] == "true" && sp.Attrs["db.system.name"] == "redis" && sp.Kind == 3
			}
		}
		return count["SET"] == 1 && count["GET"] == 3 && count["MGET"] == 1 && count["INCR"] == 1
	})
	if !ok {
		t.Fatalf("spans by command: %v", count)
	}
	if !incrErr {
		t.Error("the INCR span is not an error client span of db.system.name redis")
	}
	if len(traces) != 6 {
		t.Errorf("%d traces for 6 commands, want one each", len(traces))
	}
}
