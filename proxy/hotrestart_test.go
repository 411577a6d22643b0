package proxy_test

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/internal/poll"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
	"github.com/sluice-proxy/sluice/proxy"
)

// TestInheritListenerFiles is the two servers of a hot restart in one
// process: the old one hands over the socket of the address the new config
// keeps (not the one it dropped); the new one accepts on it without
// binding, closes an inherited socket its config has no listener for, and
// serves the address once the old one shut down, while the old one's open
// connection finishes on the old one.
func TestInheritListenerFiles(t *testing.T) {
	up := testenv.Echo(t).Addr()
	kept := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	dropped := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
	cfg := func(ls ...[2]string) string { return fmt.Sprintf(adoptConfig("5s", ls...), up) }
	old := sluicetest.Start(t, cfg([2]string{"a", kept}, [2]string{"b", dropped}))
	open := dialEcho(t, kept)

	addrs, files := old.Server.ListenerFiles([]string{kept, "127.0.0.1:1"})
	if len(files) != 1 || addrs[0] != kept {
		t.Fatalf("handed over %v, want only %s", addrs, kept)
	}
	ln, err := net.FileListener(files[0])
	files[0].Close()
	if err != nil {
		t.Fatal(err)
	}
	stray, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	next := sluicetest.StartWith(t, cfg([2]string{"a", kept}),
		proxy.Inherit(map[string]net.Listener{kept: ln, stray.Addr().String(): stray}))
	if got := next.Server.ListenerAddr("a"); got != kept {
		t.Fatalf("new server's listener at %q", got)
	}
	if _, err := net.DialTimeout("tcp", stray.Addr().String(), time.Second); err == nil {
		t.Fatal("an inherited socket no listener took still accepts")
	}

	stopped := make(chan struct{})
	go func() { old.Server.Shutdown(); close(stopped) }() // waits for the open connection
	// Until the old server stops accepting, a connection may land on
	// either: every one is served, and the two counts add up.
	dials := 1
	for i := range 20 {
		dialEcho(t, kept).roundTrip(fmt.Sprintf("during %d", i))
		dials++
	}
	open.roundTrip("old connection, still on the old server")
	poll.Eventually(t, 5*time.Second, func() bool {
		c, err := net.DialTimeout("tcp", dropped, time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	}, "the dropped address refusing once the old server stopped")
	name := "listener." + underscore(kept) + ".downstream_cx_total"
	poll.Eventually(t, 5*time.Second, func() bool {
		before := next.Counter(name)
		dialEcho(t, kept).roundTrip("after")
		dials++
		return next.Counter(name) > before
	}, "the new server accepting what the old one no longer does")
	if got := old.Counter(name) + next.Counter(name); got != uint64(dials) {
		t.Fatalf("%d connections counted by the two servers, %d made", got, dials)
	}
	open.c.Close()
	<-stopped
}

func underscore(addr string) string {
	b := []byte(addr)
	for i, c := range b {
		if c == ':' {
			b[i] = '_'
		}
	}
	return string(b)
}
