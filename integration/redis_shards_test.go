package integration

import (
	"context"
	"fmt"
	"github.com/sluice-proxy/sluice/internal/poll"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	redisproxy "github.com/sluice-proxy/sluice/filters/redis"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// threeShards starts three redis-servers behind sluice with ring_hash.
func threeShards(t *testing.T, extra string) (*sluicetest.Sluice, []*testenv.RedisServer) {
	t.Helper()
	var srvs []*testenv.RedisServer
	var eps []string
	for i := 0; i < 3; i++ {
		s := testenv.Redis(t, testenv.RedisArgs("--appendonly", "no"))
		srvs = append(srvs, s)
		eps = append(eps, `"`+s.Addr()+`"`)
	}
	s := sluicetest.Start(t, redisProxyYAML(`
stat_prefix: shards
settings: {op_timeout: 2s, enable_hashtagging: true}
prefix_routes: {catch_all_route: {cluster: shards}}`+extra, `
- {name: shards, lb_policy: ring_hash, connect_timeout: 1s, endpoints: [`+strings.Join(eps, ", ")+`]}`))
	return s, srvs
}

// owner returns the shard the cluster's ring gives key.
func owner(t *testing.T, s *sluicetest.Sluice, srvs []*testenv.RedisServer, key string) int {
	t.Helper()
	h := s.Server.Clusters.Get("shards").Pick(redisproxy.HashKey([]byte(key), true), true)
	for i, srv := range srvs {
		if h != nil && h.Address() == srv.Addr() {
			return i
		}
	}
	t.Fatalf("no shard for %q", key)
	return -1
}

func TestRedisProxyShards(t *testing.T) {
	s, srvs := threeShards(t, "")
	ctx := context.Background()
	c := newClient(t, s.Addr("redis"))
	var direct []*redis.Client
	for _, srv := range srvs {
		direct = append(direct, newClient(t, srv.Addr()))
	}

	// Keys land where the ring says, and only there.
	perShard := make([]int, 3)
	var keys []string
	for i := 0; i < 60; i++ {
		k := fmt.Sprintf("key:%d", i)
		keys = append(keys, k)
		if err := c.Set(ctx, k, "v"+k, 0).Err(); err != nil {
			t.Fatalf("SET %s: %v", k, err)
		}
		want := owner(t, s, srvs, k)
		perShard[want]++
		for j, d := range direct {
			n, _ := d.Exists(ctx, k).Result()
			if (j == want) != (n == 1) {
				t.Fatalf("%s: on shard %d = %v, ring says shard %d", k, j, n == 1, want)
			}
		}
	}
	for i, n := range perShard {
		if n == 0 {
			t.Fatalf("shard %d got no keys of 60: %v", i, perShard)
		}
	}

	// MGET across shards, in order, with a missing key.
	args := append(append([]string{}, keys[:10]...), "nope")
	vals, err := c.MGet(ctx, args...).Result()
	if err != nil {
		t.Fatalf("MGET: %v", err)
	}
	for i, k := range keys[:10] {
		if vals[i] != "v"+k {
			t.Fatalf("MGET[%d] = %v, want v%s", i, vals[i], k)
		}
	}
	if vals[10] != nil {
		t.Fatalf("MGET missing = %v, want nil", vals[10])
	}
	// MSET across shards, then each key on its shard.
	if err := c.MSet(ctx, "m:1", "a", "m:2", "b", "m:3", "c", "m:4", "d").Err(); err != nil {
		t.Fatalf("MSET: %v", err)
	}
	for i, k := range []string{"m:1", "m:2", "m:3", "m:4"} {
		got, _ := direct[owner(t, s, srvs, k)].Get(ctx, k).Result()
		if want := string(rune('a' + i)); got != want {
			t.Fatalf("%s on its shard = %q, want %q", k, got, want)
		}
	}
	// Sums across shards.
	if n, err := c.Exists(ctx, keys[:20]...).Result(); err != nil || n != 20 {
		t.Fatalf("EXISTS 20 keys = %d, %v", n, err)
	}
	if n, err := c.Del(ctx, append(keys[:5], "nope")...).Result(); err != nil || n != 5 {
		t.Fatalf("DEL = %d, %v; want 5", n, err)
	}

	// Pipeline depth 100 spread over shards, replies in order.
	pipe := c.Pipeline()
	var gets []*redis.StringCmd
	for i := 0; i < 100; i++ {
		k := fmt.Sprintf("p:%d", i)
		pipe.Set(ctx, k, i, 0)
		gets = append(gets, pipe.Get(ctx, k))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatalf("pipeline: %v", err)
	}
	for i, g := range gets {
		if g.Val() != fmt.Sprint(i) {
			t.Fatalf("pipelined GET p:%d = %q", i, g.Val())
		}
	}

	// MULTI/EXEC: same shard (hash tag) works, cross-shard fails clearly.
	var inc *redis.IntCmd
	_, err = c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, "{u1}:a", "1", 0)
		inc = p.Incr(ctx, "{u1}:b")
		return nil
	})
	if err != nil || inc.Val() != 1 {
		t.Fatalf("same-shard MULTI: %v, INCR = %d", err, inc.Val())
	}
	a, b := crossPair(t, s, srvs)
	_, err = c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, a, "1", 0)
		p.Set(ctx, b, "1", 0)
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "CROSSSLOT") && !strings.Contains(err.Error(), "EXECABORT") {
		t.Fatalf("cross-shard MULTI err = %v, want CROSSSLOT/EXECABORT", err)
	}
	if n, _ := direct[owner(t, s, srvs, a)].Exists(ctx, a).Result(); n != 0 {
		t.Fatalf("cross-shard MULTI wrote %s", a)
	}

	// BLPOP on a dedicated connection, served by a push from another client.
	res := make(chan []string, 1)
	go func() {
		v, _ := c.BLPop(ctx, 5*time.Second, "queue").Result()
		res <- v
	}()
	c2 := newClient(t, s.Addr("redis"))
	q := direct[owner(t, s, srvs, "queue")]
	poll.Eventually(t, 5*time.Second, func() bool {
		n, _ := q.Do(ctx, "CLIENT", "LIST").Text()
		return strings.Contains(n, "cmd=blpop")
	}, "BLPOP not blocked on the queue's shard")
	if err := c2.RPush(ctx, "queue", "job").Err(); err != nil {
		t.Fatal(err)
	}
	if v := <-res; len(v) != 2 || v[1] != "job" {
		t.Fatalf("BLPOP = %v", v)
	}
	// The shared connection was not blocked meanwhile: c2 worked above.

	// Pub/sub through pinning.
	sub := c2.Subscribe(ctx, "news")
	if _, err := sub.Receive(ctx); err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	poll.Eventually(t, 5*time.Second, func() bool {
		n, _ := c.Publish(ctx, "news", "hello").Result()
		return n == 1
	}, "PUBLISH reached no subscriber")
	m, err := sub.ReceiveMessage(ctx)
	if err != nil || m.Payload != "hello" {
		t.Fatalf("message = %v, %v", m, err)
	}
	sub.Close()

	// A shard killed: its keys fail, the others keep working.
	dead := owner(t, s, srvs, keys[30])
	srvs[dead].Kill()
	for _, k := range keys[10:] {
		err := c.Get(ctx, k).Err()
		if owner(t, s, srvs, k) == dead {
			if err == nil || !strings.Contains(err.Error(), "upstream failure") {
				t.Fatalf("GET %s on the dead shard: %v, want upstream failure", k, err)
			}
		} else if err != nil {
			t.Fatalf("GET %s on a live shard: %v", k, err)
		}
	}
	vals, err = c.MGet(ctx, keys[10:20]...).Result()
	if err != nil {
		t.Fatalf("MGET with a dead shard: %v", err)
	}
	for i, k := range keys[10:20] {
		_, isErr := vals[i].(error)
		if owner(t, s, srvs, k) == dead {
			if !isErr {
				t.Fatalf("MGET[%s] on the dead shard = %v, want an error", k, vals[i])
			}
		} else if vals[i] != "v"+k {
			t.Fatalf("MGET[%s] = %v, want v%s", k, vals[i], k)
		}
	}
	if s.Counter("redis.shards.downstream_rq_total") == 0 {
		t.Fatal("downstream_rq_total not counted")
	}
}

// crossPair returns two keys on different shards.
func crossPair(t *testing.T, s *sluicetest.Sluice, srvs []*testenv.RedisServer) (string, string) {
	a := "x:0"
	for i := 1; i < 100; i++ {
		b := fmt.Sprintf("x:%d", i)
		if owner(t, s, srvs, b) != owner(t, s, srvs, a) {
			return a, b
		}
	}
	t.Fatal("no cross-shard pair")
	return "", ""
}

// TestRedisProxyMirrorSplit: split commands (MSET, DEL) are mirrored too,
// split again over the mirror cluster's own shards; afterwards each mirror
// shard holds exactly the keys its ring gives it.
func TestRedisProxyMirrorSplit(t *testing.T) {
	var prim, mirr []*testenv.RedisServer
	eps := func(srvs []*testenv.RedisServer) string {
		var out []string
		for _, s := range srvs {
			out = append(out, `"`+s.Addr()+`"`)
		}
		return strings.Join(out, ", ")
	}
	for i := 0; i < 2; i++ {
		prim = append(prim, testenv.Redis(t, testenv.RedisArgs("--appendonly", "no")))
		mirr = append(mirr, testenv.Redis(t, testenv.RedisArgs("--appendonly", "no")))
	}
	s := sluicetest.Start(t, redisProxyYAML(`
stat_prefix: mir
settings: {op_timeout: 2s}
prefix_routes:
  catch_all_route:
    cluster: prim
    request_mirror_policy: [{cluster: mirr, exclude_read_commands: true}]`, `
- {name: prim, lb_policy: ring_hash, connect_timeout: 1s, endpoints: [`+eps(prim)+`]}
- {name: mirr, lb_policy: maglev, connect_timeout: 1s, endpoints: [`+eps(mirr)+`]}`))
	ctx := context.Background()
	c := newClient(t, s.Addr("redis"))
	var direct []*redis.Client
	for _, m := range mirr {
		direct = append(direct, newClient(t, m.Addr()))
	}
	mirrorOwner := func(key string) int {
		h := s.Server.Clusters.Get("mirr").Pick(redisproxy.HashKey([]byte(key), false), true)
		for i, m := range mirr {
			if h != nil && h.Address() == m.Addr() {
				return i
			}
		}
		t.Fatalf("no mirror shard for %q", key)
		return -1
	}
	// want[i] is the exact key set mirror shard i must hold.
	want := func(keys []string) [][]string {
		out := make([][]string, len(mirr))
		for _, k := range keys {
			i := mirrorOwner(k)
			out[i] = append(out[i], k)
		}
		for i := range out {
			slices.Sort(out[i])
		}
		return out
	}
	holds := func(w [][]string) func() bool {
		return func() bool {
			for i, d := range direct {
				got, err := d.Keys(ctx, "*").Result()
				slices.Sort(got)
				if err != nil || !slices.Equal(got, w[i]) {
					return false
				}
			}
			return true
		}
	}

	var keys, kv []string
	for i := 0; i < 40; i++ {
		k := fmt.Sprintf("mk:%d", i)
		keys = append(keys, k)
		kv = append(kv, k, "v"+k)
	}
	if err := c.MSet(ctx, kv).Err(); err != nil {
		t.Fatalf("MSET: %v", err)
	}
	w := want(keys)
	if len(w[0]) == 0 || len(w[1]) == 0 {
		t.Fatalf("keys do not span both mirror shards: %v", w)
	}
	poll.Eventually(t, 5*time.Second, holds(w), "mirror shards do not hold exactly the MSET keys: want %v", w)
	for _, k := range keys {
		if v, _ := direct[mirrorOwner(k)].Get(ctx, k).Result(); v != "v"+k {
			t.Fatalf("mirror %s = %q, want v%s", k, v, k)
		}
	}
	// Reads are not mirrored (exclude_read_commands): MGET leaves no trace.
	if _, err := c.MGet(ctx, keys...).Result(); err != nil {
		t.Fatalf("MGET: %v", err)
	}
	if n, err := c.Del(ctx, keys[:25]...).Result(); err != nil || n != 25 {
		t.Fatalf("DEL = %d, %v; want 25", n, err)
	}
	w = want(keys[25:])
	poll.Eventually(t, 5*time.Second, holds(w), "mirror shards do not hold exactly the keys left after DEL: want %v", w)
	// An MSET whose keys share a primary shard (so it is not split there) is
	// still split over the mirror's shards.
	primOwner := func(key string) string {
		return s.Server.Clusters.Get("prim").Pick(redisproxy.HashKey([]byte(key), false), true).Address()
	}
	a, b := "same:0", ""
	for i := 1; b == "" && i < 1000; i++ {
		k := fmt.Sprintf("same:%d", i)
		if primOwner(k) == primOwner(a) && mirrorOwner(k) != mirrorOwner(a) {
			b = k
		}
	}
	if b == "" {
		t.Fatal("no key pair on one primary shard and two mirror shards")
	}
	if err := c.MSet(ctx, a, "1", b, "2").Err(); err != nil {
		t.Fatalf("MSET one shard: %v", err)
	}
	w = want(append(slices.Clone(keys[25:]), a, b))
	poll.Eventually(t, 5*time.Second, holds(w), "mirror shards after a one-shard MSET: want %v", w)
}
