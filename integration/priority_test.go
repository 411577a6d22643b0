package integration

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// redisPort asks the redis-server behind a new connection to addr for its
// port (CONFIG GET port), telling the backends apart.
func redisPort(addr string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(c, "CONFIG GET port\r\n"); err != nil {
		return "", err
	}
	r := bufio.NewReader(c)
	var lines []string
	for range 5 { // *2, $4, port, $n, value
		l, err := r.ReadString('\n')
		if err != nil {
			return "", err
		}
		lines = append(lines, strings.TrimSpace(l))
	}
	return lines[4], nil
}

// TestStaticPriorityLocalities: sluice's own YAML with priorities and
// locality weights. P0 has localities a (weight 1, one redis) and b
// (weight 3, two); P1 one redis. All healthy: a:b = 1:3 and P1 idle. One
// of b's hosts killed: b's availability is 140×1/2 = 70, so a:b = 100:210
// (32%:68%) while P0's health (140×2/3 = 93) leaves P1 7%. Then a's host killed too: P0's health is 140×1/3 = 46, so
// P1 takes 54%.
func TestStaticPriorityLocalities(t *testing.T) {
	rs := []*testenv.RedisServer{testenv.Redis(t), testenv.Redis(t), testenv.Redis(t), testenv.Redis(t)}
	s := sluicetest.Start(t, fmt.Sprintf(`
listeners:
  - name: redis
    address: 127.0.0.1:0
    filters: [{tcp_proxy: {stat_prefix: redis, cluster: redis}}]
clusters:
  - name: redis
    locality_weighted_lb: true
    endpoints:
      - {address: %q, locality: {zone: a}, locality_weight: 1}
      - {address: %q, locality: {zone: b}, locality_weight: 3}
      - {address: %q, locality: {zone: b}, locality_weight: 3}
      - {address: %q, priority: 1}
    health_checks:
      - {interval: 50ms, timeout: 200ms, unhealthy_threshold: 1, healthy_threshold: 1, tcp_health_check: {}}
`, rs[0].Addr(), rs[1].Addr(), rs[2].Addr(), rs[3].Addr()))
	proxy := s.Addr("redis")
	s.WaitGauge("cluster.redis.membership_healthy", 4, 10*time.Second)
	group := map[string]string{strconv.Itoa(rs[0].Port()): "a", strconv.Itoa(rs[1].Port()): "b", strconv.Itoa(rs[2].Port()): "b", strconv.Itoa(rs[3].Port()): "p1"}
	share := func(n int) map[string]int {
		t.Helper()
		got := map[string]int{}
		for range n {
			p, err := redisPort(proxy)
			if err != nil {
				t.Fatalf("through sluice: %v", err)
			}
			got[group[p]]++
		}
		return got
	}
	if got := share(400); got["a"] < 95 || got["a"] > 105 || got["p1"] != 0 {
		t.Fatalf("all healthy: %v, want a:b 1:3, none on P1", got)
	}
	rs[1].Kill()
	s.WaitGauge("cluster.redis.membership_healthy", 3, 10*time.Second)
	// P0's health is now 140×2/3 = 93: P1 takes 7% (about 42 of 600, sd
	// 6); within P0 a gets 100/310 of the rest on a fixed schedule.
	got := share(600)
	if pa := float64(got["a"]) / float64(got["a"]+got["b"]); got["p1"] < 18 || got["p1"] > 66 || pa < 0.30 || pa > 0.35 {
		t.Fatalf("one of b down: %v, want about 42 on P1 and a:b = 100:210", got)
	}
	rs[0].Kill()
	s.WaitGauge("cluster.redis.membership_healthy", 2, 10*time.Second)
	// Random priority choice at p = 0.54 over 600: sd about 12.
	if got := share(600); got["p1"] < 264 || got["p1"] > 384 || got["a"] != 0 {
		t.Fatalf("a and one of b down: %v, want about 324 (54%%) on P1", got)
	}
	if n := s.Counter("cluster.redis.lb_healthy_panic"); n != 0 {
		t.Errorf("lb_healthy_panic = %d; P1 is healthy, nothing is in panic", n)
	}
}
