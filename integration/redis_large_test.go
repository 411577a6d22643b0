package integration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/sluice-proxy/sluice/internal/poll"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// redisLimitYAML is one redis_proxy listener and cluster, both with
// per_connection_buffer_limit_bytes = limit; settings are the filter's
// settings (op_timeout is required).
func redisLimitYAML(addr string, limit int, settings string) string {
	return fmt.Sprintf(`
listeners:
  - name: redis
    address: 127.0.0.1:0
    per_connection_buffer_limit_bytes: %d
    filters:
      - redis_proxy:
          stat_prefix: big
          settings: {%s}
          prefix_routes: {catch_all_route: {cluster: one}}
clusters:
  - {name: one, per_connection_buffer_limit_bytes: %d, endpoints: ["%s"]}
`, limit, settings, limit, addr)
}

// pattern is n bytes that differ with seed and position.
func pattern(seed byte, n int) []byte {
	v := make([]byte, n)
	for i := range v {
		v[i] = seed + byte(i%251)
	}
	return v
}

// gaugeMax samples the named gauges until stop is closed and returns the
// largest value seen of each.
func gaugeMax(s *sluicetest.Sluice, stop <-chan struct{}, names ...string) func() []int64 {
	out := make([]int64, len(names))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			for i, n := range names {
				out[i] = max(out[i], s.Gauge(n))
			}
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond): // a sampling interval
			}
		}
	}()
	return func() []int64 { wg.Wait(); return out }
}

// TestRedisProxyLargeValues: values far larger than
// per_connection_buffer_limit_bytes round-trip byte-exact through sluice
// (SET streamed to the upstream, GET streamed to the client), while other
// clients on the same upstream connection keep working, and what sluice
// holds for clients stays within a few buffer limits.
func TestRedisProxyLargeValues(t *testing.T) {
	srv := testenv.Redis(t)
	const limit = 64 << 10
	const size = 8 << 20
	s := sluicetest.Start(t, redisLimitYAML(srv.Addr(), limit, "op_timeout: 5s"))
	ctx := context.Background()
	c := newClient(t, s.Addr("redis"), func(o *redis.Options) { o.ReadTimeout = 20 * time.Second; o.WriteTimeout = 20 * time.Second })
	direct := newClient(t, srv.Addr())

	stop := make(chan struct{})
	peaks := gaugeMax(s, stop, "redis.big.downstream_cx_rx_bytes_buffered", "redis.big.downstream_cx_tx_bytes_buffered")

	// Small traffic from other clients meanwhile, sharing the upstream.
	var small atomic.Int64
	var wg sync.WaitGroup
	other := newClient(t, s.Addr("redis"))
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				k := fmt.Sprintf("small:%d", w)
				if err := other.Set(ctx, k, i, 0).Err(); err != nil {
					t.Errorf("small SET: %v", err)
					return
				}
				if got, err := other.Get(ctx, k).Int(); err != nil || got != i {
					t.Errorf("small GET = %d, %v", got, err)
					return
				}
				small.Add(1)
			}
		}(w)
	}

	vals := map[string][]byte{}
	for i, k := range []string{"big:a", "big:b"} {
		v := pattern(byte('a'+i), size)
		vals[k] = v
		if err := c.Set(ctx, k, v, 0).Err(); err != nil {
			t.Fatalf("SET %s: %v", k, err)
		}
	}
	for k, v := range vals {
		if got, err := direct.Get(ctx, k).Bytes(); err != nil || !bytes.Equal(got, v) {
			t.Fatalf("direct GET %s: %d bytes, equal %v, %v", k, len(got), bytes.Equal(got, v), err)
		}
		if got, err := c.Get(ctx, k).Bytes(); err != nil || !bytes.Equal(got, v) {
			t.Fatalf("GET %s through sluice: %d bytes, equal %v, %v", k, len(got), bytes.Equal(got, v), err)
		}
	}
	// Pipelined: a small command before and after a large one, replies in order.
	pipe := c.Pipeline()
	before := pipe.Set(ctx, "p:1", "x", 0)
	get := pipe.Get(ctx, "big:a")
	after := pipe.Get(ctx, "p:1")
	set := pipe.Set(ctx, "big:c", vals["big:b"], 0)
	last := pipe.Incr(ctx, "p:n")
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatalf("pipeline: %v", err)
	}
	if before.Err() != nil || !bytes.Equal([]byte(get.Val()), vals["big:a"]) || after.Val() != "x" || set.Err() != nil || last.Val() != 1 {
		t.Fatalf("pipeline replies: %v, GET %d bytes, %q, %v, %d", before.Err(), len(get.Val()), after.Val(), set.Err(), last.Val())
	}
	// SET ... GET returns the large old value from the client's own connection.
	old, err := c.SetArgs(ctx, "big:c", pattern('z', size), redis.SetArgs{Get: true}).Bytes()
	if err != nil || !bytes.Equal(old, vals["big:b"]) {
		t.Fatalf("SET GET: %d bytes, equal %v, %v", len(old), bytes.Equal(old, vals["big:b"]), err)
	}
	close(stop)
	wg.Wait()
	p := peaks()
	t.Logf("peaks: rx_bytes_buffered %d, tx_bytes_buffered %d; %d small round trips meanwhile", p[0], p[1], small.Load())
	if small.Load() == 0 {
		t.Error("no small request completed while large values moved")
	}
	// Four clients (the big one, three small): each holds a read buffer of
	// at most ~2 limits and stops reading at one limit of replies held.
	if p[0] > 4*2*limit || p[1] > 4*2*limit {
		t.Errorf("held bytes peaked at rx %d, tx %d: more than 8 buffer limits (%d)", p[0], p[1], 8*limit)
	}
	if n := s.Counter("redis.big.downstream_rq_too_large"); n != 0 {
		t.Errorf("downstream_rq_too_large = %d", n)
	}
}

// TestRedisProxyLargeRefused: a large command that cannot be streamed (its
// second key comes after the large value) is refused with an error, counted,
// and the connection is closed; other connections are unaffected.
func TestRedisProxyLargeRefused(t *testing.T) {
	srv := testenv.Redis(t)
	const limit = 64 << 10
	s := sluicetest.Start(t, redisLimitYAML(srv.Addr(), limit, "op_timeout: 5s"))
	ctx := context.Background()
	raw, err := net.Dial("tcp", s.Addr("redis"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	// MSET's second key comes after the large value: nothing to route on.
	fmt.Fprintf(raw, "*5\r\n$4\r\nMSET\r\n$3\r\nm:1\r\n$%d\r\n%s", 4*limit, pattern('m', limit))
	raw.SetReadDeadline(time.Now().Add(5 * time.Second))
	reply, err := io.ReadAll(raw) // the refusal, then the close
	if !strings.HasPrefix(string(reply), "-ERR command exceeds per_connection_buffer_limit_bytes (65536)") {
		t.Fatalf("reply %q (%v), want the buffer limit refusal", reply, err)
	}
	s.WaitCounter("redis.big.downstream_rq_too_large", 1, 5*time.Second)
	c := newClient(t, s.Addr("redis"))
	if got, err := c.Set(ctx, "after", "ok", 0).Result(); err != nil || got != "OK" {
		t.Fatalf("a new connection after the refusal: %q, %v", got, err)
	}
	if n, _ := newClient(t, srv.Addr()).Exists(ctx, "m:1", "m:2").Result(); n != 0 {
		t.Fatalf("refused MSET reached redis: %d keys exist", n)
	}
	// A transaction is held until EXEC: together its commands fit the limit.
	_, err = c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, "t:1", pattern('t', limit/2), 0)
		p.Set(ctx, "t:2", pattern('u', limit/2), 0)
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "EXECABORT") {
		t.Fatalf("MULTI of %d bytes: %v, want EXECABORT", limit, err)
	}
	s.WaitCounter("redis.big.downstream_rq_too_large", 2, 5*time.Second)
	if n, _ := newClient(t, srv.Addr()).Exists(ctx, "t:1", "t:2").Result(); n != 0 {
		t.Fatalf("aborted transaction reached redis: %d keys exist", n)
	}
}

// TestRedisProxyRequestTimeout: a client that dribbles a partial command
// is closed once request_timeout passes, counted and logged; a client idle
// between commands for longer is not.
func TestRedisProxyRequestTimeout(t *testing.T) {
	srv := testenv.Redis(t)
	s := sluicetest.Start(t, redisLimitYAML(srv.Addr(), 1<<20, "op_timeout: 5s, request_timeout: 500ms"))
	ctx := context.Background()
	idle := newClient(t, s.Addr("redis"), func(o *redis.Options) { o.PoolSize = 1 })
	if err := idle.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}

	slow, err := net.Dial("tcp", s.Addr("redis"))
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	cmd := []byte("*3\r\n$3\r\nSET\r\n$4\r\nslow\r\n$10\r\n0123456789\r\n")
	closed := make(chan error, 1)
	go func() {
		_, err := io.ReadAll(slow) // returns when sluice closes the connection
		closed <- err
	}()
	start := time.Now()
	sent := 0
	poll.Eventually(t, 10*time.Second, func() bool {
		select {
		case <-closed:
			return true
		default:
		}
		if sent < len(cmd)-1 { // one byte per poll, never the last
			slow.Write(cmd[sent : sent+1])
			sent++
		}
		return false
	}, "sluice closes a client dribbling a partial command")
	held := time.Since(start)
	s.WaitCounter("redis.big.downstream_rq_timeout", 1, 5*time.Second)
	if held < 500*time.Millisecond {
		t.Fatalf("closed after %v, before request_timeout", held)
	}
	if n, _ := newClient(t, srv.Addr()).Exists(ctx, "slow").Result(); n != 0 {
		t.Fatal("the partial command reached redis")
	}
	// The idle client waited longer than request_timeout between commands.
	if got, err := idle.Get(ctx, "k").Result(); err != nil || got != "v" {
		t.Fatalf("idle client after %v: %q, %v", held, got, err)
	}
	if err := idle.Ping(ctx).Err(); errors.Is(err, io.EOF) {
		t.Fatal("idle client was closed")
	}
}

// TestRedisProxyLargeReplySlowReader: a client that asks for a reply far
// larger than the buffer limit and does not read it holds the shared
// upstream connection for at most op_timeout: then it is closed, the rest
// of its reply is dropped, and the other clients' requests on that
// connection complete.
func TestRedisProxyLargeReplySlowReader(t *testing.T) {
	srv := testenv.Redis(t)
	const limit = 64 << 10
	const size = 64 << 20 // beyond what loopback socket buffers absorb
	s := sluicetest.Start(t, redisLimitYAML(srv.Addr(), limit, "op_timeout: 1s"))
	ctx := context.Background()
	if err := newClient(t, srv.Addr()).Set(ctx, "huge", pattern('h', size), 0).Err(); err != nil {
		t.Fatal(err)
	}
	slow, err := net.Dial("tcp", s.Addr("redis"))
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	if _, err := slow.Write([]byte("*2\r\n$3\r\nGET\r\n$4\r\nhuge\r\n")); err != nil {
		t.Fatal(err)
	}
	// Once the reply is under way, another client's request on the same
	// upstream connection waits for it, then completes.
	poll.Eventually(t, 5*time.Second, func() bool {
		return s.Gauge("redis.big.downstream_rq_active") >= 1
	}, "the slow client's GET is in flight")
	fast := newClient(t, s.Addr("redis"), func(o *redis.Options) { o.ReadTimeout = 10 * time.Second })
	if got, err := fast.Set(ctx, "after", "ok", 0).Result(); err != nil || got != "OK" {
		t.Fatalf("a request behind the stalled reply: %q, %v", got, err)
	}
	// The slow client was closed with part of its reply.
	slow.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := io.Copy(io.Discard, slow)
	if err != nil || n >= size {
		t.Fatalf("slow client read %d of %d reply bytes, %v; want a close before the end", n, size, err)
	}
	t.Logf("the slow client got %d of %d reply bytes before it was closed", n, size)
}

// TestRedisProxyPipelineBackpressure: a client pipelining many commands
// below the limit to a redis that does not answer (CLIENT PAUSE) is not
// read further once the requests awaiting replies reach the buffer limit;
// every command completes once redis answers again.
func TestRedisProxyPipelineBackpressure(t *testing.T) {
	srv := testenv.Redis(t)
	const limit = 64 << 10
	const n, size = 100, 48 << 10 // 4.8 MB of requests
	s := sluicetest.Start(t, redisLimitYAML(srv.Addr(), limit, "op_timeout: 10s"))
	ctx := context.Background()
	direct := newClient(t, srv.Addr())
	c := newClient(t, s.Addr("redis"), func(o *redis.Options) { o.ReadTimeout = 20 * time.Second })
	if err := direct.Do(ctx, "CLIENT", "PAUSE", 1500, "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	peaks := gaugeMax(s, stop, "redis.big.downstream_cx_rx_bytes_buffered")
	pipe := c.Pipeline()
	for i := 0; i < n; i++ {
		pipe.Set(ctx, fmt.Sprintf("bp:%d", i), pattern(byte(i), size), 0)
	}
	cmds, err := pipe.Exec(ctx)
	close(stop)
	if err != nil || len(cmds) != n {
		t.Fatalf("pipeline: %d replies, %v", len(cmds), err)
	}
	if got, err := direct.Get(ctx, fmt.Sprintf("bp:%d", n-1)).Bytes(); err != nil || !bytes.Equal(got, pattern(byte(n-1), size)) {
		t.Fatalf("last value: %d bytes, %v", len(got), err)
	}
	// Held: the requests awaiting replies (up to the limit plus one
	// command) and the read buffer (one command).
	p := peaks()[0]
	t.Logf("rx_bytes_buffered peaked at %d bytes for %d bytes of pipelined requests", p, n*size)
	if p > 4*limit {
		t.Errorf("rx_bytes_buffered peaked at %d, more than 4 buffer limits (%d)", p, 4*limit)
	}
}
