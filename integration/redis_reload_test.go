package integration

import (
	"context"
	"fmt"
	"github.com/sluice-proxy/sluice/internal/poll"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// TestRedisProxyReloadsReleasePools reloads a redis_proxy listener 100 times
// under traffic (one go-redis client that keeps its pooled connections, one
// that connects anew each round). Each reload builds a filter with its own
// upstream pools; a retired one closes them (filters.Closer) once its last
// client connection ends. After the traffic stops and the listener goes back
// to a plain tcp_proxy, goroutines and fds are back to the baseline.
func TestRedisProxyReloadsReleasePools(t *testing.T) {
	srv := testenv.Redis(t)
	const plain = `
listeners:
  - name: redis
    address: 127.0.0.1:0
    filters:
      - tcp_proxy: {stat_prefix: idle, cluster: nowhere}
clusters:
  - {name: nowhere, type: static, connect_timeout: 1s, endpoints: ["127.0.0.1:1"]}
`
	proxyCfg := func(i int) string {
		return redisProxyYAML(fmt.Sprintf(`
stat_prefix: reload
settings: {op_timeout: %ds}
prefix_routes: {catch_all_route: {cluster: one}}`, 2+i%2), `
- {name: one, endpoints: ["`+srv.Addr()+`"]}`)
	}
	s := sluicetest.Start(t, plain)
	base, baseFDs, baseCount := goleak.IgnoreCurrent(), openFDs(t), runtime.NumGoroutine()
	if err := s.Reload(proxyCfg(0)); err != nil {
		t.Fatal(err)
	}
	addr := s.Addr("redis") // a reload keeps the listener's address
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	var done atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	stop := make(chan struct{})
	for i, fresh := range []bool{false, true} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var c *redis.Client
			defer func() {
				if c != nil {
					c.Close()
				}
			}()
			for round := 0; ; round++ {
				select {
				case <-stop:
					return
				default:
				}
				if c == nil || fresh {
					if c != nil {
						c.Close()
					}
					c = redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: 2 * time.Second})
				}
				key := fmt.Sprintf("reload-%d", i)
				if err := c.Incr(ctx, key).Err(); err != nil {
					errs <- fmt.Errorf("client %d round %d: %w", i, round, err)
					return
				}
				done.Add(1)
			}
		}()
	}
	for i := 0; i < 100; i++ {
		if err := s.Reload(proxyCfg(i + 1)); err != nil {
			t.Fatalf("reload %d: %v", i, err)
		}
		want := done.Load() + 2
		poll.Eventually(t, 30*time.Second, func() bool { return done.Load() >= want || len(errs) > 0 },
			"no command after reload %d", i)
		if len(errs) > 0 {
			break
		}
	}
	close(stop)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatal(<-errs)
	}
	t.Logf("%d commands across 100 reloads; goroutines %d (baseline %d), fds %d (baseline %d)",
		done.Load(), runtime.NumGoroutine(), baseCount, openFDs(t), baseFDs)
	if err := s.Reload(plain); err != nil {
		t.Fatal(err)
	}
	var leaked error
	poll.Eventually(t, 30*time.Second, func() bool {
		leaked = goleak.Find(base, ignoreEventLoops)
		return leaked == nil && openFDs(t) <= baseFDs
	}, "after 100 reloads: fds %d (baseline %d), goroutines: %v", func() any { return openFDs(t) }, baseFDs, func() any { return leaked })
}
