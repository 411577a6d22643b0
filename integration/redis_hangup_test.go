package integration

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/internal/poll"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// TestRedisProxyBlockedClientHangsUp: a client that closes while its
// BLPOP k 0 or WAIT 1 0 waits (forever, on a server with no data and no
// replicas) is freed, as redis-server frees a blocked client at EOF: its
// connection through sluice ends and the dedicated upstream connection
// closes. Before, both stayed until the process exited.
func TestRedisProxyBlockedClientHangsUp(t *testing.T) {
	srv := testenv.Redis(t)
	s := sluicetest.Start(t, fmt.Sprintf(`
listeners:
  - name: redis
    address: 127.0.0.1:0
    filters:
      - redis_proxy: {stat_prefix: r, settings: {op_timeout: 5s}, prefix_routes: {catch_all_route: {cluster: r}}}
clusters:
  - {name: r, endpoints: ["%s"]}
`, srv.Addr()))
	for _, cmd := range []string{"BLPOP sluice:nothing 0", "SET a 1\r\nWAIT 1 0"} {
		c, err := net.Dial("tcp", s.Addr("redis"))
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte(cmd + "\r\n"))
		poll.Eventually(t, 10*time.Second, func() bool { return blockedClients(t, srv.Addr()) == 1 },
			"%q never blocked in redis-server", cmd)
		c.Close()
		poll.Eventually(t, 10*time.Second, func() bool {
			return s.Gauge("redis.r.downstream_cx_active") == 0 && blockedClients(t, srv.Addr()) == 0
		}, "%q: the blocked client is still held (sluice downstream_cx_active %v)", cmd,
			func() any { return s.Gauge("redis.r.downstream_cx_active") })
	}
}

// blockedClients asks redis-server how many clients it has blocked.
func blockedClients(t *testing.T, addr string) int {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c.Write([]byte("INFO clients\r\n"))
	buf := make([]byte, 4096)
	n, _ := c.Read(buf)
	var blocked int
	for _, line := range strings.Split(string(buf[:n]), "\r\n") {
		if v, ok := strings.CutPrefix(line, "blocked_clients:"); ok {
			blocked, _ = strconv.Atoi(v)
		}
	}
	return blocked
}
