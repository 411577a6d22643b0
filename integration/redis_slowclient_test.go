package integration

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/codec/redis"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// TestRedisProxySlowClient: a client that pipelines far more reply bytes
// than the socket buffers hold and reads nothing for a while gets every
// reply, complete and in order, once it reads; clients sharing its upstream
// connection are not held up meanwhile. This exercises the hand-over from
// direct (non-blocking) reply writes to the client's writer goroutine.
func TestRedisProxySlowClient(t *testing.T) {
	srv := testenv.Redis(t)
	s := sluicetest.Start(t, redisProxyYAML(`
stat_prefix: slow
settings: {op_timeout: 5s}
prefix_routes: {catch_all_route: {cluster: one}}`, `
- {name: one, endpoints: ["`+srv.Addr()+`"]}`))
	ctx := context.Background()
	direct := newClient(t, srv.Addr())
	const keys, size = 64, 64 << 10
	for i := 0; i < keys; i++ {
		v := make([]byte, size)
		for j := range v {
			v[j] = byte('a' + (i+j)%26)
		}
		if err := direct.Set(ctx, fmt.Sprintf("big:%d", i), v, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}

	slow, err := net.Dial("tcp", s.Addr("redis"))
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	const rounds = 8 // 8*64 replies of 64 KiB: 32 MiB, far beyond socket buffers
	go func() {
		var req []byte
		for r := 0; r < rounds; r++ {
			for i := 0; i < keys; i++ {
				req = redis.AppendCommandString(req, "GET", fmt.Sprintf("big:%d", i))
			}
		}
		slow.Write(req)
	}()

	// While the slow client's replies pile up, other clients get answers.
	fast := newClient(t, s.Addr("redis"))
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				k := fmt.Sprintf("fast:%d:%d", w, i)
				if err := fast.Set(ctx, k, i, 0).Err(); err != nil {
					t.Errorf("SET %s: %v", k, err)
					return
				}
				if got, err := fast.Get(ctx, k).Int(); err != nil || got != i {
					t.Errorf("GET %s = %d, %v", k, got, err)
					return
				}
			}
		}(w)
	}
	wg.Wait()

	slow.SetReadDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReaderSize(slow, 1<<20)
	buf := make([]byte, size+2)
	for r := 0; r < rounds; r++ {
		for i := 0; i < keys; i++ {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("reply %d/%d: %v", r, i, err)
			}
			if n, _ := strconv.Atoi(line[1 : len(line)-2]); line[0] != '$' || n != size {
				t.Fatalf("reply %d/%d header %q, want $%d", r, i, line, size)
			}
			if _, err := io.ReadFull(br, buf); err != nil {
				t.Fatalf("reply %d/%d body: %v", r, i, err)
			}
			if buf[0] != byte('a'+i%26) || buf[size-1] != byte('a'+(i+size-1)%26) {
				t.Fatalf("reply %d/%d is another key's value (out of order)", r, i)
			}
		}
	}
}
