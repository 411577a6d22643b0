package redis

import (
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/internal/poll"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// TestIdleClientsHoldLittle is issue 20's memory per idle connection at the
// filter: 40 plain TCP clients that each made one exchange with a real
// redis-server and then sit idle hold no read buffer (the reader waits for
// bytes before taking one: downstream_cx_rx_bytes_buffered is 0) and one
// goroutine each (the writer starts only when a direct write cannot finish).
func TestIdleClientsHoldLittle(t *testing.T) {
	srv := testenv.Redis(t)
	p, store := newTestProxy(t, srv.Addr(), nil)
	const n = 40
	// One client first, so that the upstream connection and its
	// goroutines exist before the count starts.
	warm, _ := serveClient(t, p)
	ping(t, warm)
	settle := func() int {
		last, same := -1, 0
		poll.Eventually(t, 10*time.Second, func() bool {
			if g := runtime.NumGoroutine(); g == last {
				same++
			} else {
				last, same = g, 0
			}
			return same >= 5
		}, "the goroutine count did not settle")
		return last
	}
	before := settle()
	for range n {
		c, _ := serveClient(t, p)
		ping(t, c)
	}
	// serveClient's goroutine is the client's reader: one per client.
	if grown := settle() - before; grown > n+n/4 {
		t.Errorf("%d idle clients added %d goroutines, want about one each", n, grown)
	}
	poll.Eventually(t, 10*time.Second, func() bool {
		v, _ := store.GaugeValue("redis.t.downstream_cx_rx_bytes_buffered")
		return v == 0
	}, "idle clients still hold read buffers")
}

// ping sends PING and reads +PONG.
func ping(t *testing.T, c io.ReadWriter) {
	t.Helper()
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 7)
	if _, err := io.ReadFull(c, got); err != nil || string(got) != "+PONG\r\n" {
		t.Fatalf("PING: %q, %v", got, err)
	}
}
