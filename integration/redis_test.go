package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// redisProxyYAML is a listener with one redis_proxy in front of clusters.
func redisProxyYAML(filter, clusters string) string {
	return fmt.Sprintf(`
listeners:
  - name: redis
    address: 127.0.0.1:0
    filters:
      - redis_proxy:
%s
clusters:
%s`, indent(filter, 10), indent(clusters, 2))
}

func indent(s string, n int) string {
	pad := strings.Repeat(" ", n)
	lines := strings.Split(strings.Trim(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = pad + l
	}
	return strings.Join(lines, "\n")
}

func newClient(t *testing.T, addr string, opts ...func(*redis.Options)) *redis.Client {
	t.Helper()
	o := &redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: 2 * time.Second, ReadTimeout: 5 * time.Second}
	for _, f := range opts {
		f(o)
	}
	c := redis.NewClient(o)
	t.Cleanup(func() { c.Close() })
	return c
}

func TestRedisProxySingleShard(t *testing.T) {
	srv := testenv.Redis(t)
	s := sluicetest.Start(t, redisProxyYAML(`
stat_prefix: one
settings: {op_timeout: 2s, enable_command_stats: true}
prefix_routes: {catch_all_route: {cluster: one}}`, `
- {name: one, endpoints: ["`+srv.Addr()+`"]}`))
	ctx := context.Background()
	c := newClient(t, s.Addr("redis"))
	direct := newClient(t, srv.Addr())

	if err := c.Set(ctx, "k1", "v1", 0).Err(); err != nil {
		t.Fatalf("SET: %v", err)
	}
	if got, _ := direct.Get(ctx, "k1").Result(); got != "v1" {
		t.Fatalf("direct GET k1 = %q, want v1", got)
	}
	if got, err := c.Get(ctx, "k1").Result(); err != nil || got != "v1" {
		t.Fatalf("GET k1 = %q, %v", got, err)
	}
	if err := c.Get(ctx, "missing").Err(); err != redis.Nil {
		t.Fatalf("GET missing: %v, want redis.Nil", err)
	}
	// Pipelining depth 100, replies in order.
	pipe := c.Pipeline()
	var cmds []*redis.IntCmd
	for i := 0; i < 100; i++ {
		cmds = append(cmds, pipe.IncrBy(ctx, "ctr", int64(i)))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatalf("pipeline: %v", err)
	}
	var sum int64
	for i, cmd := range cmds {
		sum += int64(i)
		if cmd.Val() != sum {
			t.Fatalf("reply %d = %d, want %d (out of order?)", i, cmd.Val(), sum)
		}
	}
	for _, tc := range []struct {
		name string
		args []any
		want string
	}{
		{"ping", []any{"PING"}, "PONG"},
		{"echo", []any{"ECHO", "hi"}, "hi"},
		{"select0", []any{"SELECT", "0"}, "OK"},
		{"select1", []any{"SELECT", "1"}, "ERR only database 0 is supported"},
		{"keys", []any{"KEYS", "*"}, "ERR unsupported command 'keys'"},
		{"flushall", []any{"FLUSHALL"}, "ERR unsupported command 'flushall'"},
		{"arity", []any{"GET"}, "ERR wrong number of arguments for 'get' command"},
		{"hello3", []any{"HELLO", "3"}, "NOPROTO sorry, this protocol version is not supported"},
		{"eval0", []any{"EVAL", "return 1", "0"}, "ERR invalid request"},
		{"eval", []any{"EVAL", "return redis.call('get', KEYS[1])", "1", "k1"}, "v1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := c.Do(ctx, tc.args...).Result()
			got := fmt.Sprint(v)
			if err != nil {
				got = err.Error()
			}
			if got != tc.want {
				t.Fatalf("%v = %q, want %q", tc.args, got, tc.want)
			}
		})
	}
	if n := s.Counter("redis.one.splitter.unsupported_command"); n != 2 {
		t.Errorf("splitter.unsupported_command = %d, want 2", n)
	}
	if n := s.Counter("redis.one.command.incrby.total"); n != 100 {
		t.Errorf("command.incrby.total = %d, want 100", n)
	}
	if n := s.Counter("redis.one.command.set.success"); n != 1 {
		t.Errorf("command.set.success = %d, want 1", n)
	}
	if n := s.Counter("redis.one.downstream_cx_total"); n < 1 {
		t.Errorf("downstream_cx_total = %d", n)
	}
}
