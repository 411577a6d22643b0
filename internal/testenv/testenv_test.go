package testenv_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sluice-proxy/sluice/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// refused asserts that nothing accepts on addr.
func refused(t *testing.T, addr string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		c.Close()
		t.Fatalf("%s still accepts connections", addr)
	}
}

func redisClient(t *testing.T, addr, pw string) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: addr, Password: pw, MaxRetries: -1, Protocol: 2, DisableIdentity: true})
	t.Cleanup(func() { c.Close() })
	return c
}

func TestRedis(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		opts []testenv.RedisOption
		pw   string
	}{
		{name: "plain"},
		{name: "password", opts: []testenv.RedisOption{testenv.RedisPassword("s3cret")}, pw: "s3cret"},
		{name: "extra args", opts: []testenv.RedisOption{testenv.RedisArgs("--maxmemory", "7mb")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testenv.Redis(t, tt.opts...)
			c := redisClient(t, s.Addr(), tt.pw)
			if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
				t.Fatalf("SET: %v", err)
			}
			if got, err := c.Get(ctx, "k").Result(); err != nil || got != "v" {
				t.Fatalf("GET = %q, %v; want v", got, err)
			}
			out, err := s.CLI("GET", "k")
			if err != nil || out != "v" {
				t.Fatalf("redis-cli GET = %q, %v; want v", out, err)
			}
			if tt.pw != "" {
				if err := redisClient(t, s.Addr(), "").Ping(ctx).Err(); err == nil || !strings.Contains(err.Error(), "NOAUTH") {
					t.Fatalf("PING without AUTH = %v, want NOAUTH", err)
				}
			}
		})
	}
	t.Run("maxmemory applied", func(t *testing.T) {
		s := testenv.Redis(t, testenv.RedisArgs("--maxmemory", "7mb"))
		out, err := s.CLI("CONFIG", "GET", "maxmemory")
		if err != nil || !strings.HasSuffix(out, "7340032") {
			t.Fatalf("CONFIG GET maxmemory = %q, %v", out, err)
		}
	})
}

func TestRedisKillRestart(t *testing.T) {
	ctx := context.Background()
	s := testenv.Redis(t)
	addr, port := s.Addr(), s.Port()
	c := redisClient(t, addr, "")
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	s.Kill()
	refused(t, addr)
	if err := c.Ping(ctx).Err(); err == nil {
		t.Fatal("PING after Kill succeeded")
	}
	s.Restart()
	if s.Port() != port {
		t.Fatalf("Restart moved port %d -> %d", port, s.Port())
	}
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("PING after Restart: %v", err)
	}
	if err := c.Get(ctx, "k").Err(); !errors.Is(err, redis.Nil) {
		t.Fatalf("GET after Restart = %v, want nil reply (no persistence)", err)
	}
	s.Stop()
	refused(t, addr)
}

func TestRedisCluster(t *testing.T) {
	ctx := context.Background()
	rc := testenv.RedisCluster(t, 3, 1)
	if got := len(rc.Masters()); got != 3 {
		t.Fatalf("masters = %d, want 3", got)
	}
	for _, n := range rc.Nodes() {
		out, err := n.CLI("CLUSTER", "INFO")
		if err != nil || !strings.Contains(out, "cluster_state:ok") {
			t.Fatalf("%s CLUSTER INFO = %q, %v", n.Addr(), out, err)
		}
	}
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: rc.Addrs(), Protocol: 2, DisableIdentity: true})
	defer cc.Close()
	if err := cc.Set(ctx, "user:1", "ada", 0).Err(); err != nil {
		t.Fatalf("cluster SET: %v", err)
	}

	slot := rc.KeySlot("user:1")
	from := rc.Owner(slot)
	var to *testenv.RedisNode
	for _, m := range rc.Masters() {
		if m != from {
			to = m
			break
		}
	}
	rc.MigrateSlot(slot, from, to)
	if got := rc.Owner(slot); got != to {
		t.Fatalf("owner of slot %d = %s, want %s", slot, got.Addr(), to.Addr())
	}
	err := redisClient(t, from.Addr(), "").Get(ctx, "user:1").Err()
	if err == nil || !strings.HasPrefix(err.Error(), "MOVED ") || !strings.HasSuffix(err.Error(), to.Addr()) {
		t.Fatalf("GET at old owner = %v, want MOVED to %s", err, to.Addr())
	}
	if got, err := redisClient(t, to.Addr(), "").Get(ctx, "user:1").Result(); err != nil || got != "ada" {
		t.Fatalf("GET at new owner = %q, %v; want ada (key migrated)", got, err)
	}

	t.Run("ask during migration", func(t *testing.T) {
		cc.Set(ctx, "{m}a", "1", 0)
		cc.Set(ctx, "{m}b", "2", 0)
		slot := rc.KeySlot("{m}a")
		src := rc.Owner(slot)
		dst := rc.Masters()[0]
		if dst == src {
			dst = rc.Masters()[1]
		}
		mig := rc.StartMigration(slot, src, dst)
		mig.MoveKeys("{m}a")
		err := redisClient(t, src.Addr(), "").Get(ctx, "{m}a").Err()
		if err == nil || !strings.HasPrefix(err.Error(), "ASK ") {
			t.Fatalf("GET moved key at source = %v, want ASK", err)
		}
		if got, err := redisClient(t, src.Addr(), "").Get(ctx, "{m}b").Result(); err != nil || got != "2" {
			t.Fatalf("GET unmoved key at source = %q, %v; want 2", got, err)
		}
		mig.Finish()
		if got := rc.Owner(slot); got != dst {
			t.Fatalf("owner after Finish = %s, want %s", got.Addr(), dst.Addr())
		}
	})

	t.Run("failover", func(t *testing.T) {
		old := rc.Owner(0)
		nm := rc.Failover(old)
		if nm == old || rc.Owner(0) != nm {
			t.Fatalf("after Failover owner of slot 0 = %s, want the promoted replica %s", rc.Owner(0).Addr(), nm.Addr())
		}
	})
}
