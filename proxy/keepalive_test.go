package proxy_test

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/internal/poll"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/proxy"
)

// procTCP is "ADDR:PORT" as /proc/net/tcp writes a loopback IPv4 address.
func procTCP(a net.Addr) string {
	return fmt.Sprintf("0100007F:%04X", a.(*net.TCPAddr).Port)
}

// tcpTimer returns the timer column ("tr": 0 none, 1 retransmit, 2
// keep-alive, 3 TIME_WAIT, 4 zero window probe) of the established socket
// from local to remote, and whether there is one.
func tcpTimer(t *testing.T, local, remote string) (string, bool) {
	b, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		t.Skipf("no /proc/net/tcp: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) > 5 && f[1] == local && (remote == "" || f[2] == remote) && f[3] == "01" {
			tr, _, _ := strings.Cut(f[5], ":")
			return tr, true
		}
	}
	return "", false
}

// TestAcceptedConnectionsWithoutKeepAlive: like Envoy, sluice sets no TCP
// keep-alive on accepted downstream sockets (Go's listeners would, at 15 s);
// the upstream socket it dials keeps the cluster dialer's 30 s keep-alive,
// which shows that the check sees a keep-alive timer when there is one.
func TestAcceptedConnectionsWithoutKeepAlive(t *testing.T) {
	up := serve(t, echo)
	s := startSluice(t, fmt.Sprintf(`
listeners:
  - name: l
    address: 127.0.0.1:0
    filters: [{tcp_proxy: {stat_prefix: t, cluster: c}}]
clusters:
  - {name: c, endpoints: ["%s"]}
`, up))
	c, err := net.Dial("tcp", s.Addr("l"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintln(c, "ping")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if line, err := bufio.NewReader(c).ReadString('\n'); err != nil || line != "ping\n" {
		t.Fatalf("echo: %q, %v", line, err)
	}
	upAddr, err := net.ResolveTCPAddr("tcp", up)
	if err != nil {
		t.Fatal(err)
	}
	// The upstream socket's row: from any local port to the echo server;
	// the echo server's own accepted socket has the server's port as local.
	var upTimer string
	poll.Eventually(t, 5*time.Second, func() bool {
		b, _ := os.ReadFile("/proc/net/tcp")
		for _, line := range strings.Split(string(b), "\n")[1:] {
			if f := strings.Fields(line); len(f) > 5 && f[2] == procTCP(upAddr) && f[3] == "01" {
				upTimer, _, _ = strings.Cut(f[5], ":")
				return true
			}
		}
		return false
	}, "no established upstream socket in /proc/net/tcp")
	if upTimer != "02" {
		t.Fatalf("upstream socket timer %q, want 02 (keep-alive)", upTimer)
	}
	checkNoKeepAlive(t, c)
}

// checkNoKeepAlive fails unless sluice's end of c has no keep-alive timer.
func checkNoKeepAlive(t *testing.T, c net.Conn) {
	t.Helper()
	down, ok := tcpTimer(t, procTCP(c.RemoteAddr()), procTCP(c.LocalAddr()))
	if !ok {
		t.Fatal("no established downstream socket in /proc/net/tcp")
	}
	if down != "00" {
		t.Fatalf("accepted downstream socket timer %q, want 00 (no keep-alive)", down)
	}
}

// TestInheritedListenerWithoutKeepAlive: a listening socket inherited in a
// hot restart (net.FileListener, which gives accepted connections Go's
// keep-alive) serves its connections without keep-alive too.
func TestInheritedListenerWithoutKeepAlive(t *testing.T) {
	up := serve(t, echo)
	parent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f, err := parent.(*net.TCPListener).File()
	parent.Close()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.FileListener(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	s := sluicetest.StartWith(t, fmt.Sprintf(`
listeners:
  - name: l
    address: %s
    filters: [{tcp_proxy: {stat_prefix: t, cluster: c}}]
clusters:
  - {name: c, endpoints: ["%s"]}
`, addr, up), proxy.Inherit(map[string]net.Listener{addr: ln}))
	if got := s.Server.ListenerAddr("l"); got != addr {
		t.Fatalf("listener at %q, want the inherited %s", got, addr)
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintln(c, "ping")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if line, err := bufio.NewReader(c).ReadString('\n'); err != nil || line != "ping\n" {
		t.Fatalf("echo: %q, %v", line, err)
	}
	checkNoKeepAlive(t, c)
}
