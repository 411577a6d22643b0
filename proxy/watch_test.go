package proxy_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// TestWatcherRewriteInPlaceKeepsConnections: the config file is rewritten in
// place (truncated, then written in two pieces, the first of which is a valid
// config without listener b) while a client is connected through b. Each
// poll of the watcher sees one state; only the final content is applied, and
// the connection lives on. An empty file that stays empty is refused.
func TestWatcherRewriteInPlaceKeepsConnections(t *testing.T) {
	up := testenv.Echo(t).Addr()
	full := func(comment string) string {
		return fmt.Sprintf(adoptConfig("100ms", [2]string{"a", "127.0.0.1:0"}, [2]string{"b", "127.0.0.1:0"}), up) + comment
	}
	orig := full("")
	s := startSluice(t, orig)
	w := config.NewWatcher(s.File, []byte(orig))
	c := dialEcho(t, s.Addr("b"))
	write := func(content string) {
		t.Helper()
		if err := os.WriteFile(s.File, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	poll := func() {
		t.Helper()
		if b, ok := w.Poll(); ok {
			s.Server.ReloadData(s.File, b)
		}
	}

	next := full("# v2\n")
	half := next[:strings.Index(next, "  - {name: b")] // listener a only, and the cluster is cut off
	half = half + fmt.Sprintf("clusters:\n  - {name: echo, endpoints: [%q]}\n", up)
	if _, err := config.Parse("half", []byte(half)); err != nil {
		t.Fatalf("the half-written state should be a valid config, to matter: %v", err)
	}
	write("")
	poll()
	write(half)
	poll()
	write(next)
	poll()
	if got := s.Counter("server.config_reload"); got != 0 {
		t.Fatalf("config_reload = %d before the content settled", got)
	}
	poll()
	if got := s.Counter("server.config_reload"); got != 1 {
		t.Fatalf("config_reload = %d after the content settled", got)
	}
	if got := s.Counter("listener_manager.listener_removed"); got != 0 {
		t.Fatalf("listener_removed = %d", got)
	}
	c.roundTrip("after the rewrite")

	// Truncated and left empty: read twice, handed over, refused.
	write("")
	poll()
	poll()
	if got := s.Counter("server.config_reload_failed"); got != 1 {
		t.Fatalf("config_reload_failed = %d, want the empty file refused", got)
	}
	write(full("# v3\n"))
	poll()
	poll()
	if got := s.Counter("server.config_reload"); got != 2 {
		t.Fatalf("config_reload = %d", got)
	}
	c.roundTrip("after the empty file")
	dialEcho(t, s.Addr("b")).roundTrip("b accepts")
}
