package connlimit_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sluice-proxy/sluice/internal/poll"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// TestMain fails the package's tests if a goroutine outlives them.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func echoed(t *testing.T, c net.Conn, msg string) bool {
	t.Helper()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, msg+"\n"); err != nil {
		return false
	}
	l, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && l == msg+"\n"
}

// TestConnectionLimit: with max_connections 2 (and a delay before close),
// two connections are served, a third is refused and counted, and once one
// ends a new one is served again.
func TestConnectionLimit(t *testing.T) {
	echo := testenv.Echo(t)
	s := sluicetest.Start(t, fmt.Sprintf(`
listeners:
  - name: l
    address: 127.0.0.1:0
    filters:
      - connection_limit: {stat_prefix: lim, max_connections: 2, delay: 100ms}
      - tcp_proxy: {stat_prefix: l, cluster: echo}
clusters:
  - {name: echo, endpoints: ["%s"]}
`, echo.Addr()))
	dial := func() net.Conn {
		c, err := net.Dial("tcp", s.Addr("l"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	a, b := dial(), dial()
	if !echoed(t, a, "a") || !echoed(t, b, "b") {
		t.Fatal("the first two connections are not served")
	}
	if got := s.Gauge("connection_limit.lim.active_connections"); got != 2 {
		t.Fatalf("active_connections %d, want 2", got)
	}
	if echoed(t, dial(), "c") {
		t.Fatal("a third connection was served")
	}
	s.WaitCounter("connection_limit.lim.limited_connections", 1, 10*time.Second)
	a.Close()
	s.WaitGauge("connection_limit.lim.active_connections", 1, 10*time.Second)
	if !echoed(t, dial(), "d") {
		t.Fatal("a connection after one ended is not served")
	}
	poll.Eventually(t, 10*time.Second, func() bool { return s.Counter("connection_limit.lim.limited_connections") == 1 },
		"limited_connections stays 1", func() any { return s.Counter("connection_limit.lim.limited_connections") })
}

// TestConnectionLimitRuntimeDisabled: runtime_enabled's default_value
// false turns the filter off.
func TestConnectionLimitRuntimeDisabled(t *testing.T) {
	echo := testenv.Echo(t)
	s := sluicetest.Start(t, fmt.Sprintf(`
listeners:
  - name: l
    address: 127.0.0.1:0
    filters:
      - connection_limit: {stat_prefix: lim, max_connections: 1, runtime_enabled: {default_value: false, runtime_key: cl.on}}
      - tcp_proxy: {stat_prefix: l, cluster: echo}
clusters:
  - {name: echo, endpoints: ["%s"]}
`, echo.Addr()))
	for i := range 3 {
		c, err := net.Dial("tcp", s.Addr("l"))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if !echoed(t, c, fmt.Sprint(i)) {
			t.Fatalf("connection %d refused with the filter disabled", i)
		}
	}
}
