package localratelimit_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// TestMain fails the package's tests if a goroutine outlives them.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestLocalRateLimitConnections: a bucket of 2 tokens refilled once an hour
// serves two new connections and refuses the third (rate_limited); open
// connections are not affected.
func TestLocalRateLimitConnections(t *testing.T) {
	echo := testenv.Echo(t)
	s := sluicetest.Start(t, fmt.Sprintf(`
listeners:
  - name: l
    address: 127.0.0.1:0
    filters:
      - local_ratelimit: {stat_prefix: rl, token_bucket: {max_tokens: 2, fill_interval: 1h}}
      - tcp_proxy: {stat_prefix: l, cluster: echo}
clusters:
  - {name: echo, endpoints: ["%s"]}
`, echo.Addr()))
	try := func(msg string) (net.Conn, bool) {
		c, err := net.Dial("tcp", s.Addr("l"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		c.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(c, msg+"\n")
		l, err := bufio.NewReader(c).ReadString('\n')
		return c, err == nil && l == msg+"\n"
	}
	a, ok1 := try("1")
	_, ok2 := try("2")
	_, ok3 := try("3")
	if !ok1 || !ok2 || ok3 {
		t.Fatalf("served %v %v %v, want true true false", ok1, ok2, ok3)
	}
	s.WaitCounter("local_ratelimit.rl.rate_limited", 1, 10*time.Second)
	a.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(a, "again\n")
	if l, err := bufio.NewReader(a).ReadString('\n'); err != nil || l != "again\n" {
		t.Fatalf("an admitted connection stopped working: %q, %v", l, err)
	}
}
