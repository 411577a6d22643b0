package integration

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

func TestRedisProxyRedisCluster(t *testing.T) {
	rc := testenv.RedisCluster(t, 3, 0)
	var seeds []string
	for _, a := range rc.Addrs() {
		seeds = append(seeds, `"`+a+`"`)
	}
	s := sluicetest.Start(t, redisProxyYAML(`
stat_prefix: rc
settings: {op_timeout: 2s, enable_redirection: true}
prefix_routes: {catch_all_route: {cluster: rc}}`, `
- {name: rc, type: redis_cluster, cluster_refresh_rate: 1h, endpoints: [`+strings.Join(seeds, ", ")+`]}`))
	ctx := context.Background()
	c := newClient(t, s.Addr("redis"))

	for i := 0; i < 30; i++ {
		k := fmt.Sprintf("rk:%d", i)
		if err := c.Set(ctx, k, k, 0).Err(); err != nil {
			t.Fatalf("SET %s: %v", k, err)
		}
		// The key is on the node that owns its slot.
		own := rc.Owner(rc.KeySlot(k))
		if got, _ := newClient(t, own.Addr()).Get(ctx, k).Result(); got != k {
			t.Fatalf("%s not on its slot owner %s", k, own.Addr())
		}
	}
	if v, err := c.MGet(ctx, "rk:1", "rk:2", "rk:3", "rk:4").Result(); err != nil || v[3] != "rk:4" {
		t.Fatalf("MGET = %v, %v", v, err)
	}

	// Migrate a key's slot to another master: the proxy's map is stale
	// (refresh rate 1h), so it gets MOVED and must follow it.
	key := "rk:7"
	slot := rc.KeySlot(key)
	from := rc.Owner(slot)
	var to *testenv.RedisNode
	for _, m := range rc.Masters() {
		if m.ID() != from.ID() {
			to = m
			break
		}
	}
	rc.MigrateSlot(slot, from, to)
	if got, err := c.Get(ctx, key).Result(); err != nil || got != key {
		t.Fatalf("GET after MOVED = %q, %v", got, err)
	}
	// ASK during a migration: a key already moved answers ASK at the source.
	key2 := "rk:9"
	slot2 := rc.KeySlot(key2)
	from2 := rc.Owner(slot2)
	var to2 *testenv.RedisNode
	for _, m := range rc.Masters() {
		if m.ID() != from2.ID() {
			to2 = m
			break
		}
	}
	mig := rc.StartMigration(slot2, from2, to2)
	mig.MoveKeys(key2)
	if got, err := c.Get(ctx, key2).Result(); err != nil || got != key2 {
		t.Fatalf("GET during migration (ASK) = %q, %v", got, err)
	}
	mig.Finish()
	if got, err := c.Get(ctx, key2).Result(); err != nil || got != key2 {
		t.Fatalf("GET after migration = %q, %v", got, err)
	}
}

func TestRedisProxyAuth(t *testing.T) {
	srv := testenv.Redis(t, testenv.RedisPassword("up-secret"))
	s := sluicetest.Start(t, redisProxyYAML(`
stat_prefix: auth
settings: {op_timeout: 2s}
downstream_auth_password: down-secret
upstream_auth: {up: {password: up-secret}}
prefix_routes: {catch_all_route: {cluster: up}}`, `
- {name: up, endpoints: ["`+srv.Addr()+`"]}`))
	ctx := context.Background()

	anon := newClient(t, s.Addr("redis"))
	if err := anon.Get(ctx, "k").Err(); err == nil || !strings.Contains(err.Error(), "NOAUTH") {
		t.Fatalf("GET without AUTH: %v, want NOAUTH", err)
	}
	bad := newClient(t, s.Addr("redis"), func(o *redis.Options) { o.Password = "nope" })
	if err := bad.Ping(ctx).Err(); err == nil {
		t.Fatal("wrong password accepted")
	}
	good := newClient(t, s.Addr("redis"), func(o *redis.Options) { o.Password = "down-secret" })
	if err := good.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET with AUTH (upstream AUTH sent by the proxy): %v", err)
	}
	direct := newClient(t, srv.Addr(), func(o *redis.Options) { o.Password = "up-secret" })
	if got, _ := direct.Get(ctx, "k").Result(); got != "v" {
		t.Fatalf("direct GET = %q", got)
	}
	// redis-cli through the proxy, with and without the password.
	host, port, _ := net.SplitHostPort(s.Addr("redis"))
	cli := func(args ...string) string {
		out, _ := exec.Command("redis-cli", append([]string{"-h", host, "-p", port}, args...)...).CombinedOutput()
		return strings.TrimSpace(string(out))
	}
	if got := cli("-a", "down-secret", "--no-auth-warning", "GET", "k"); got != "v" {
		t.Fatalf("redis-cli GET with AUTH = %q", got)
	}
	if got := cli("GET", "k"); !strings.Contains(got, "NOAUTH") {
		t.Fatalf("redis-cli GET without AUTH = %q", got)
	}
}

func TestRedisProxyProtocolError(t *testing.T) {
	srv := testenv.Redis(t)
	s := sluicetest.Start(t, redisProxyYAML(`
stat_prefix: perr
settings: {op_timeout: 2s}
prefix_routes: {catch_all_route: {cluster: up}}`, `
- {name: up, endpoints: ["`+srv.Addr()+`"]}`))
	ctx := context.Background()
	other := newClient(t, s.Addr("redis"))
	if err := other.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	nc, err := net.Dial("tcp", s.Addr("redis"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprint(nc, "*1\r\n$4\r\nPING\r\n*2\r\n$x\r\n")
	br := bufio.NewReader(nc)
	for _, want := range []string{"+PONG\r\n", "-ERR Protocol error: invalid bulk length\r\n"} {
		line, err := br.ReadString('\n')
		if err != nil || line != want {
			t.Fatalf("reply = %q, %v; want %q", line, err, want)
		}
	}
	if _, err := br.ReadByte(); err == nil {
		t.Fatal("connection still open after a protocol error")
	}
	if got, err := other.Get(ctx, "k").Result(); err != nil || got != "v" {
		t.Fatalf("other client after the protocol error: %q, %v", got, err)
	}
	s.WaitCounter("redis.perr.downstream_cx_protocol_error", 1, 5*time.Second)
}
