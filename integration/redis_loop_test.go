package integration

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/internal/poll"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
	"github.com/sluice-proxy/sluice/proxy"
)

// TestRedisClientsOnLoops: plain TCP clients of redis_proxy are served by
// the event loops (issue 20), and every command the loop must not serve
// (MULTI, blocking commands, a value larger than the buffer limit, a
// command that needs a dial, QUIT) goes back to the client's goroutine and
// on to the loop again, on the same connection, with every reply in
// order. Run against a real redis-server, with two loops.
func TestRedisClientsOnLoops(t *testing.T) {
	srv := testenv.Redis(t)
	s := sluicetest.StartWith(t, `
listeners:
  - name: redis
    address: 127.0.0.1:0
    per_connection_buffer_limit_bytes: 65536
    filters:
      - redis_proxy:
          stat_prefix: lp
          settings: {op_timeout: 1s}
          prefix_routes: {catch_all_route: {cluster: one}}
clusters:
  - {name: one, endpoints: ["`+srv.Addr()+`"], per_connection_buffer_limit_bytes: 65536}
`, proxy.IOLoops(2))
	ctr := 0
	loops := s.Server.Loops()
	if loops == nil {
		t.Skip("no event loops on this platform")
	}
	addr := s.Addr("redis")
	c, br, do := rawRedis(t, addr)
	do("+OK\r\n", "SET", "a", "1") // the first send waits for a dial: on the goroutine
	do("$1\r\n1\r\n", "GET", "a")
	// The socket goes to a loop at an idle moment.
	poll.Eventually(t, 5*time.Second, func() bool { return loops.Adopted() >= 1 }, "no client adopted by a loop")

	// A pipeline on the loop: one write, 200 commands, replies in order.
	pipeline := func(n int) {
		t.Helper()
		var b, want strings.Builder
		for i := 0; i < n; i++ {
			b.WriteString("*2\r\n$4\r\nINCR\r\n$3\r\nctr\r\n")
		}
		c.Write([]byte(b.String()))
		for i := 0; i < n; i++ {
			ctr++
			fmt.Fprintf(&want, ":%d\r\n", ctr)
		}
		expectRESP(t, br, want.String())
	}
	pipeline(200)

	// MULTI goes back to the goroutine; the transaction and what follows
	// are answered in order, and after enough ordinary commands the
	// socket goes to a loop again.
	before := loops.Adopted()
	do("+OK\r\n", "MULTI")
	do("+QUEUED\r\n", "SET", "t", "x")
	do("+QUEUED\r\n", "GET", "t")
	do("*2\r\n+OK\r\n$1\r\nx\r\n", "EXEC")
	do("$1\r\n1\r\n", "GET", "a")
	pipeline(300)
	do("$1\r\n1\r\n", "GET", "a")
	poll.Eventually(t, 5*time.Second, func() bool { return loops.Adopted() > before }, "the client did not go back to a loop after MULTI")

	// A blocking command runs on a dedicated connection from the goroutine.
	do(":1\r\n", "LPUSH", "q", "v")
	do("*2\r\n$1\r\nq\r\n$1\r\nv\r\n", "BLPOP", "q", "1")

	// A value four times the buffer limits is streamed by the goroutines:
	// the client's (the SET) and the upstream connection's (the reply).
	big := strings.Repeat("z", 256<<10)
	do("+OK\r\n", "SET", "big", big)
	do(fmt.Sprintf("$%d\r\n%s\r\n", len(big), big), "GET", "big")
	do("$1\r\n1\r\n", "GET", "a")

	// op_timeout while the upstream connection is on a loop: the stopped
	// server's connection is closed, the request fails, and the next one
	// goes out on a new connection.
	srv.Pause()
	do("-ERR upstream failure\r\n", "GET", "a")
	srv.Resume()
	poll.Eventually(t, 10*time.Second, func() bool {
		fmt.Fprintf(c, "*2\r\n$3\r\nGET\r\n$1\r\na\r\n")
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("reading: %v", err)
		}
		if line == "$1\r\n" {
			expectRESP(t, br, "1\r\n")
			return true
		}
		return false
	}, "no reply after the upstream resumed")
	if n := s.Counter("redis.lp.upstream_rq_timeout"); n == 0 {
		t.Fatal("upstream_rq_timeout not counted")
	}
	do("+OK\r\n", "QUIT")
	if _, err := br.ReadByte(); err == nil {
		t.Fatal("the connection stayed open after QUIT")
	}

	// The upstream restarts (empty): a client on a loop whose command
	// finds no connection hands the send to its goroutine, which dials,
	// and goes back to the loop at once (a dial is no reason to stay).
	c2, br2, do2 := rawRedis(t, addr)
	before = loops.Adopted()
	do2("+PONG\r\n", "PING")
	poll.Eventually(t, 5*time.Second, func() bool { return loops.Adopted() > before }, "the second client was not adopted")
	srv.Restart()
	poll.Eventually(t, 10*time.Second, func() bool {
		before = loops.Adopted()
		fmt.Fprintf(c2, "*2\r\n$3\r\nGET\r\n$1\r\na\r\n")
		line, err := br2.ReadString('\n')
		if err != nil {
			t.Fatalf("reading: %v", err)
		}
		if line == "$-1\r\n" { // the data set started empty
			return true
		}
		if !strings.HasPrefix(line, "-") {
			t.Fatalf("unexpected reply %q", line)
		}
		return false
	}, "the proxy did not reconnect")
	poll.Eventually(t, 5*time.Second, func() bool { return loops.Adopted() > before }, "the client did not go back to a loop after the dial")
	do2("+OK\r\n", "SET", "a", "2")
	do2("$1\r\n2\r\n", "GET", "a")

	// Many clients at once on the loops, each checking its own values.
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- loopClient(addr, w)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := s.Counter("redis.lp.downstream_cx_protocol_error"); n != 0 {
		t.Fatalf("protocol errors: %d", n)
	}
}

// rawRedis dials addr and returns the conn, its reader, and a function
// that sends one command and expects the exact reply.
func rawRedis(t *testing.T, addr string) (net.Conn, *bufio.Reader, func(want string, args ...string)) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	br := bufio.NewReader(c)
	return c, br, func(want string, args ...string) {
		t.Helper()
		fmt.Fprintf(c, "*%d\r\n", len(args))
		for _, a := range args {
			fmt.Fprintf(c, "$%d\r\n%s\r\n", len(a), a)
		}
		expectRESP(t, br, want)
	}
}

// loopClient sets and reads back its own keys over one connection, in
// pipelines of varying depth.
func loopClient(addr string, w int) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(c)
	for round := 0; round < 50; round++ {
		depth := 1 + round%7
		var b strings.Builder
		for i := 0; i < depth; i++ {
			k, v := fmt.Sprintf("w%d:%d", w, i), fmt.Sprintf("%d.%d", round, i)
			fmt.Fprintf(&b, "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", len(k), k, len(v), v)
			fmt.Fprintf(&b, "*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n", len(k), k)
		}
		if _, err := c.Write([]byte(b.String())); err != nil {
			return err
		}
		for i := 0; i < depth; i++ {
			v := fmt.Sprintf("%d.%d", round, i)
			for _, want := range []string{"+OK\r\n", fmt.Sprintf("$%d\r\n%s\r\n", len(v), v)} {
				got := make([]byte, len(want))
				if _, err := io.ReadFull(br, got); err != nil {
					return fmt.Errorf("client %d round %d: %w", w, round, err)
				}
				if string(got) != want {
					return fmt.Errorf("client %d round %d: got %q, want %q", w, round, got, want)
				}
			}
		}
	}
	return nil
}
