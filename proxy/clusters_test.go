package proxy_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
)

// TestApplyClustersMovesEndpointsOnly: a config whose listeners are the
// running ones moves the endpoints without touching a listener; one that
// changes a listener is left to Apply.
func TestApplyClustersMovesEndpointsOnly(t *testing.T) {
	one, two := serve(t, named("one")), serve(t, named("two"))
	cfg := func(ep string) string { return fmt.Sprintf(reloadBase, listenerYAML("a"), ep) }
	s := sluicetest.Start(t, cfg(one))
	if got := readAll(t, s.Addr("a")); got != "one" {
		t.Fatalf("before: %q", got)
	}
	parse := func(y string) *config.Config {
		os.WriteFile(s.File, []byte(y), 0o644)
		c, err := config.Load(s.File)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	ok, err := s.Server.ApplyClusters(parse(cfg(two)))
	if !ok || err != nil {
		t.Fatalf("ApplyClusters: %v %v", ok, err)
	}
	if got := readAll(t, s.Addr("a")); got != "two" {
		t.Fatalf("after: %q, want the new endpoint", got)
	}
	if m := s.Counter("listener_manager.listener_modified"); m != 0 {
		t.Errorf("listener_modified = %d", m)
	}
	renamed := parse(fmt.Sprintf(reloadBase, listenerYAML("b"), one))
	if ok, err := s.Server.ApplyClusters(renamed); ok || err != nil {
		t.Fatalf("a listener change went through ApplyClusters: %v %v", ok, err)
	}
	if got := readAll(t, s.Addr("a")); got != "two" {
		t.Fatalf("a refused ApplyClusters changed something: %q", got)
	}
}
