package integration

import (
	"bufio"
	"context"
	"fmt"
	"github.com/sluice-proxy/sluice/internal/poll"
	"io"
	"net"
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

// expectRESP reads exactly len(want) bytes and compares them with want.
func expectRESP(t *testing.T, br *bufio.Reader, want string) {
	t.Helper()
	got := make([]byte, len(want))
	if _, err := io.ReadFull(br, got); err != nil {
		t.Fatalf("reading %q: %v (got %q)", want, err, got)
	}
	if string(got) != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// TestRedisProxyPubSubBackToNormal: once the subscription count of the
// last unsubscribe reply is 0, the same client connection runs ordinary
// commands again (redis-server semantics); before that they get the RESP2
// subscribed-mode error.
func TestRedisProxyPubSubBackToNormal(t *testing.T) {
	srv := testenv.Redis(t)
	s := sluicetest.Start(t, redisProxyYAML(`
stat_prefix: ps
settings: {op_timeout: 2s}
prefix_routes: {catch_all_route: {cluster: one}}`, `
- {name: one, endpoints: ["`+srv.Addr()+`"]}`))
	ctx := context.Background()
	c := newClient(t, s.Addr("redis"))
	direct := newClient(t, srv.Addr())

	t.Run("go-redis", func(t *testing.T) {
		conn := c.Conn()
		defer conn.Close()
		steps := []struct {
			args []any
			want string
		}{
			{[]any{"SUBSCRIBE", "a"}, "[subscribe a 1]"},
			{[]any{"SUBSCRIBE", "b"}, "[subscribe b 2]"},
			{[]any{"PING"}, "[pong ]"},
			{[]any{"UNSUBSCRIBE", "a"}, "[unsubscribe a 1]"},
			{[]any{"GET", "k"}, "ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"},
			{[]any{"UNSUBSCRIBE", "b"}, "[unsubscribe b 0]"},
			{[]any{"SET", "k", "v"}, "OK"},
			{[]any{"GET", "k"}, "v"},
			{[]any{"PING"}, "PONG"},
		}
		for i, st := range steps {
			v, err := conn.Do(ctx, st.args...).Result()
			got := fmt.Sprint(v)
			if err != nil {
				got = err.Error()
			}
			if got != st.want {
				t.Fatalf("step %d %v: got %q, want %q", i, st.args, got, st.want)
			}
		}
	})

	t.Run("raw", func(t *testing.T) {
		nc, err := net.Dial("tcp", s.Addr("redis"))
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(10 * time.Second))
		br := bufio.NewReader(nc)
		io.WriteString(nc, "SUBSCRIBE news\r\n")
		expectRESP(t, br, "*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n")
		if n, err := c.Publish(ctx, "news", "hello").Result(); err != nil || n != 1 {
			t.Fatalf("PUBLISH = %d, %v; want 1 receiver", n, err)
		}
		expectRESP(t, br, "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n")
		// Pipelined: the GET is held until the unsubscribe's count is known.
		io.WriteString(nc, "UNSUBSCRIBE\r\nSET rk rv\r\nGET rk\r\n")
		expectRESP(t, br, "*3\r\n$11\r\nunsubscribe\r\n$4\r\nnews\r\n:0\r\n+OK\r\n$2\r\nrv\r\n")
		if got, _ := direct.Get(ctx, "rk").Result(); got != "rv" {
			t.Fatalf("direct GET rk = %q", got)
		}
		// Again, leaving with RESET this time.
		io.WriteString(nc, "PSUBSCRIBE n*\r\nRESET\r\nGET rk\r\n")
		expectRESP(t, br, "*3\r\n$10\r\npsubscribe\r\n$2\r\nn*\r\n:1\r\n+RESET\r\n$2\r\nrv\r\n")
		// The pub/sub connections were closed: nobody listens upstream.
		poll.Eventually(t, 5*time.Second, func() bool {
			n, _ := direct.Do(ctx, "PUBSUB", "NUMPAT").Int()
			m, _ := direct.PubSubNumSub(ctx, "news").Result()
			return n == 0 && m["news"] == 0
		}, "subscriptions still upstream")
		poll.Eventually(t, 5*time.Second, func() bool {
			l, _ := direct.ClientList(ctx).Result()
			return !strings.Contains(l, "cmd=ping") && !strings.Contains(l, "cmd=psubscribe")
		}, "a pub/sub connection is still open upstream")
	})
}

// TestRedisProxyWait: WAIT counts the replica that has the client's writes,
// on the client's own connection, without holding up other clients.
func TestRedisProxyWait(t *testing.T) {
	master := testenv.Redis(t)
	replica := testenv.RedisReplica(t, master)
	s := sluicetest.Start(t, redisProxyYAML(`
stat_prefix: w
settings: {op_timeout: 5s}
prefix_routes: {catch_all_route: {cluster: one}}`, `
- {name: one, endpoints: ["`+master.Addr()+`"]}`))
	ctx := context.Background()
	c := newClient(t, s.Addr("redis"))
	other := newClient(t, s.Addr("redis"))
	direct := newClient(t, master.Addr())

	// The premise: standalone redis-server propagates PUBLISH to replicas.
	before, err := master.ReplOffset()
	if err != nil {
		t.Fatal(err)
	}
	if err := direct.Publish(ctx, "__sluice:wait", "0").Err(); err != nil {
		t.Fatal(err)
	}
	if after, _ := master.ReplOffset(); after <= before {
		t.Fatalf("PUBLISH did not move master_repl_offset (%d -> %d)", before, after)
	}

	wait := func(c *redis.Client, timeoutMs int) (int64, error) {
		return c.Do(ctx, "WAIT", 1, timeoutMs).Int64()
	}
	if n, err := wait(c, 1000); err != nil || n != 1 {
		t.Fatalf("WAIT with no writes = %d, %v; want 1", n, err)
	}
	// A write and WAIT in one pipeline: WAIT runs after the SET's reply.
	pipe := c.Pipeline()
	set := pipe.Set(ctx, "wk", "1", 0)
	w := pipe.Do(ctx, "WAIT", 1, 1000)
	if _, err := pipe.Exec(ctx); err != nil || set.Err() != nil {
		t.Fatalf("pipeline: %v, %v", err, set.Err())
	}
	if n, _ := w.Int64(); n != 1 {
		t.Fatalf("WAIT 1 1000 after SET = %d, want 1", n)
	}
	if v, _ := newClient(t, replica.Addr()).Get(ctx, "wk").Result(); v != "1" {
		t.Fatalf("replica GET wk = %q after WAIT said 1", v)
	}

	// Replica paused: WAIT times out with 0 while other clients are served.
	replica.Pause()
	if err := c.Set(ctx, "wk", "2", 0).Err(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	n, err := wait(c, 200)
	if err != nil || n != 0 {
		t.Fatalf("WAIT 1 200 with the replica paused = %d, %v; want 0", n, err)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Fatalf("WAIT 1 200 returned after %v", d)
	}
	if err := c.Set(ctx, "wk", "3", 0).Err(); err != nil {
		t.Fatal(err)
	}
	done := make(chan int64, 1)
	go func() {
		n, _ := wait(c, 3000)
		done <- n
	}()
	poll.Eventually(t, 5*time.Second, func() bool {
		l, _ := direct.ClientList(ctx).Result()
		return strings.Contains(l, "cmd=wait")
	}, "WAIT not blocked on the master")
	// Causality: another client's GET through the same listener is answered
	// while the WAIT is still blocked upstream.
	if v, err := other.Get(ctx, "wk").Result(); err != nil || v != "3" {
		t.Fatalf("GET during WAIT = %q, %v", v, err)
	}
	select {
	case n := <-done:
		t.Fatalf("WAIT returned %d before the other client's GET was answered", n)
	default:
	}
	if l, _ := direct.ClientList(ctx).Result(); !strings.Contains(l, "cmd=wait") {
		t.Fatal("WAIT no longer blocked when GET was answered")
	}
	if n := <-done; n != 0 {
		t.Fatalf("WAIT 1 3000 with the replica paused = %d, want 0", n)
	}
	replica.Resume()
	if n, err := wait(c, 5000); err != nil || n != 1 {
		t.Fatalf("WAIT after resume = %d, %v; want 1", n, err)
	}
}

// TestRedisProxyWaitRedisCluster: on a Redis Cluster PUBLISH goes over the
// cluster bus, not replication, so WAIT after writes there is refused.
func TestRedisProxyWaitRedisCluster(t *testing.T) {
	rc := testenv.RedisCluster(t, 3, 1)
	var seeds []string
	for _, a := range rc.Addrs() {
		seeds = append(seeds, `"`+a+`"`)
	}
	m := rc.Masters()[0]
	before, err := m.ReplOffset()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.CLI("PUBLISH", "__sluice:wait", "0"); err != nil {
		t.Fatal(err)
	}
	if after, _ := m.ReplOffset(); after != before {
		t.Fatalf("PUBLISH moved master_repl_offset on a cluster node (%d -> %d): WAIT could be supported", before, after)
	}
	// Control: a write on the same node does move it.
	key := ""
	for i := 0; key == ""; i++ {
		if k := fmt.Sprintf("ctl:%d", i); rc.Owner(rc.KeySlot(k)).ID() == m.ID() {
			key = k
		}
	}
	if _, err := m.CLI("SET", key, "1"); err != nil {
		t.Fatal(err)
	}
	if after, _ := m.ReplOffset(); after <= before {
		t.Fatalf("a SET did not move master_repl_offset either (%d -> %d): the check proves nothing", before, after)
	}
	s := sluicetest.Start(t, redisProxyYAML(`
stat_prefix: rcw
settings: {op_timeout: 2s, enable_redirection: true}
prefix_routes: {catch_all_route: {cluster: rc}}`, `
- {name: rc, type: redis_cluster, cluster_refresh_rate: 1h, endpoints: [`+strings.Join(seeds, ", ")+`]}`))
	ctx := context.Background()
	c := newClient(t, s.Addr("redis"))
	if err := c.Set(ctx, "ck", "1", 0).Err(); err != nil {
		t.Fatal(err)
	}
	err = c.Do(ctx, "WAIT", 1, 100).Err()
	if err == nil || !strings.Contains(err.Error(), "redis_cluster") {
		t.Fatalf("WAIT after a write on redis_cluster: %v, want an -ERR naming redis_cluster", err)
	}
	if n := s.Counter("redis.rcw.splitter.unsupported_command"); n != 1 {
		t.Fatalf("splitter.unsupported_command = %d, want 1", n)
	}
	// With no writes since, WAIT is answered by a node (no offset to wait for).
	if n, err := c.Do(ctx, "WAIT", 0, 100).Int64(); err != nil || n < 0 {
		t.Fatalf("WAIT with no writes = %d, %v", n, err)
	}
}
