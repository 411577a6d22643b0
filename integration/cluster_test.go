// Package integration runs sluice in-process against real upstream servers.
package integration

import (
	"bufio"
	"errors"
	"fmt"
	"github.com/sluice-proxy/sluice/internal/poll"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, p, _ := net.SplitHostPort(ln.Addr().String())
	return p
}

// ping sends PING over a new connection to addr and wants PONG.
func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := io.WriteString(c, "PING\r\n"); err != nil {
		return err
	}
	l, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if l != "+PONG\r\n" {
		return fmt.Errorf("got %q", l)
	}
	return nil
}

// hostStat reads one host's value from /clusters text.
func hostStat(body, cluster, host, stat string) string {
	re := regexp.MustCompile("(?m)^" + regexp.QuoteMeta(cluster+"::"+host+"::"+stat+"::") + "(.*)$")
	if m := re.FindStringSubmatch(body); m != nil {
		return m[1]
	}
	return ""
}

const clusterYAML = `
listeners:
  - name: redis
    address: 127.0.0.1:0
    filters: [{tcp_proxy: {stat_prefix: redis, cluster: redis}}]
clusters:
  - name: redis
    connect_timeout: 1s
    endpoints: [%q, %q, %q]
    health_checks:
      - {interval: 100ms, timeout: 200ms, unhealthy_threshold: 2, healthy_threshold: 2, redis_health_check: {}}
`

// TestHealthCheckEjectsKilledRedis: under steady load through tcp_proxy,
// killing one of three redis-servers gets it marked failed_active_hc by its
// health checks (polled, not timed: the host may be slow); new connections
// then reach only the other two; a restart brings it back.
func TestHealthCheckEjectsKilledRedis(t *testing.T) {
	rs := []*testenv.RedisServer{testenv.Redis(t), testenv.Redis(t), testenv.Redis(t)}
	s := sluicetest.Start(t, fmt.Sprintf(clusterYAML, rs[0].Addr(), rs[1].Addr(), rs[2].Addr()))
	proxy := s.Addr("redis")
	if got := s.Gauge("cluster.redis.health_check.healthy"); got != 3 {
		t.Fatalf("health_check.healthy = %d after start, want 3", got)
	}

	var stop atomic.Bool
	var ok, failed atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for !stop.Load() {
				if ping(proxy) == nil {
					ok.Add(1)
				} else {
					failed.Add(1)
				}
			}
		})
	}
	defer func() { stop.Store(true); wg.Wait() }()
	poll.Eventually(t, 5*time.Second, func() bool { return ok.Load() > 50 }, "no steady load")

	dead := rs[1].Addr()
	rs[1].Kill()
	poll.Eventually(t, 5*time.Second, func() bool {
		_, body := s.AdminGet("/clusters")
		return hostStat(body, "redis", dead, "health_flags") == "/failed_active_hc"
	}, "killed host not marked failed_active_hc")
	// The host was failed by the checks (unhealthy_threshold 2), not by
	// anything else.
	if n := s.Counter("cluster.redis.health_check.failure"); n < 2 {
		t.Errorf("health_check.failure = %d, want at least the threshold, 2", n)
	}
	if got := s.Gauge("cluster.redis.health_check.healthy"); got != 2 {
		t.Errorf("health_check.healthy = %d, want 2", got)
	}
	if got := s.Gauge("cluster.redis.membership_healthy"); got != 2 {
		t.Errorf("membership_healthy = %d, want 2", got)
	}
	if s.Counter("cluster.redis.health_check.network_failure") < 2 {
		t.Errorf("network_failure not counted")
	}

	_, body := s.AdminGet("/clusters")
	before, _ := strconv.Atoi(hostStat(body, "redis", dead, "cx_total"))
	okBefore, failBefore := ok.Load(), failed.Load()
	poll.Eventually(t, 5*time.Second, func() bool { return ok.Load() > okBefore+200 }, "load stalled after the kill")
	_, body = s.AdminGet("/clusters")
	if after, _ := strconv.Atoi(hostStat(body, "redis", dead, "cx_total")); after != before {
		t.Errorf("dead host got %d new connections after ejection", after-before)
	}
	if f := failed.Load() - failBefore; f != 0 {
		t.Errorf("%d requests failed after the ejection", f)
	}
	for _, r := range []*testenv.RedisServer{rs[0], rs[2]} {
		if n, _ := strconv.Atoi(hostStat(body, "redis", r.Addr(), "cx_total")); n == 0 {
			t.Errorf("%s got no connections", r.Addr())
		}
	}

	rs[1].Restart()
	poll.Eventually(t, 5*time.Second, func() bool {
		_, body := s.AdminGet("/clusters")
		return hostStat(body, "redis", dead, "health_flags") == "healthy"
	}, "restarted host not healthy again")
	poll.Eventually(t, 5*time.Second, func() bool {
		_, body := s.AdminGet("/clusters")
		n, _ := strconv.Atoi(hostStat(body, "redis", dead, "cx_total"))
		return n > before
	}, "restarted host gets no traffic")
	s.WaitGauge("cluster.redis.health_check.healthy", 3, 5*time.Second)
}

// TestCircuitBreakerMaxConnections: with max_connections 2, the third
// concurrent connection is closed at once and counted.
func TestCircuitBreakerMaxConnections(t *testing.T) {
	r := testenv.Redis(t)
	s := sluicetest.Start(t, fmt.Sprintf(`
listeners:
  - name: redis
    address: 127.0.0.1:0
    filters: [{tcp_proxy: {stat_prefix: redis, cluster: redis}}]
clusters:
  - name: redis
    endpoints: [%q]
    circuit_breakers: {thresholds: [{max_connections: 2}]}
`, r.Addr()))
	proxy := s.Addr("redis")
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", proxy)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "PING\r\n")
		if l, err := bufio.NewReader(c).ReadString('\n'); err != nil || l != "+PONG\r\n" {
			t.Fatalf("held connection: %q %v", l, err)
		}
		held = append(held, c)
	}
	third, err := net.Dial("tcp", proxy)
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	third.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(third, "PING\r\n")
	// Closed with our PING unread, so a reset is as good as a FIN; a
	// timeout or a reply is not.
	if b, err := io.ReadAll(third); len(b) != 0 || (err != nil && !errors.Is(err, syscall.ECONNRESET)) {
		t.Fatalf("third connection: %q %v, want a close", b, err)
	}
	s.WaitCounter("cluster.redis.upstream_cx_overflow", 1, 5*time.Second)
	if got := s.Gauge("cluster.redis.circuit_breakers.default.cx_open"); got != 1 {
		t.Errorf("cx_open = %d, want 1", got)
	}
	_, body := s.AdminGet("/clusters")
	if !strings.Contains(body, "redis::default_priority::max_connections::2\n") {
		t.Errorf("/clusters lacks the breaker line:\n%s", body)
	}
	held[0].Close()
	s.WaitGauge("cluster.redis.circuit_breakers.default.cx_open", 0, 5*time.Second)
	if err := ping(proxy); err != nil {
		t.Fatalf("after a slot freed: %v", err)
	}
}

// TestOutlierEjectsDeadEndpoint: consecutive refused connects eject a dead
// endpoint; the live one serves everything afterwards.
func TestOutlierEjectsDeadEndpoint(t *testing.T) {
	r := testenv.Redis(t)
	dead := "127.0.0.1:" + freePort(t)
	s := sluicetest.Start(t, fmt.Sprintf(`
listeners:
  - name: redis
    address: 127.0.0.1:0
    filters: [{tcp_proxy: {stat_prefix: redis, cluster: redis}}]
clusters:
  - name: redis
    endpoints: [%q, %q]
    outlier_detection: {consecutive_5xx: 3, max_ejection_percent: 50, base_ejection_time: 1h}
`, r.Addr(), dead))
	proxy := s.Addr("redis")
	fails := 0
	for range 30 {
		if ping(proxy) != nil {
			fails++
		}
	}
	if fails != 3 {
		t.Errorf("%d pings failed, want 3 (then the dead host is ejected)", fails)
	}
	_, body := s.AdminGet("/clusters")
	if got := hostStat(body, "redis", dead, "health_flags"); got != "/failed_outlier_check" {
		t.Errorf("dead host flags %q", got)
	}
	if got := hostStat(body, "redis", dead, "cx_connect_fail"); got != "3" {
		t.Errorf("dead host cx_connect_fail %q, want 3", got)
	}
	if s.Counter("cluster.redis.outlier_detection.ejections_enforced_total") != 1 ||
		s.Gauge("cluster.redis.outlier_detection.ejections_active") != 1 {
		t.Errorf("outlier stats: enforced %d active %d", s.Counter("cluster.redis.outlier_detection.ejections_enforced_total"),
			s.Gauge("cluster.redis.outlier_detection.ejections_active"))
	}
}
