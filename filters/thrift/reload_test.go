package thrift_test

import (
	"context"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/thrifttest"
)

// TestReloadAndHostRemoval: a host that leaves its cluster has its pooled
// connection closed; a reload retires the old filter, whose pools close
// once its last client is gone.
func TestReloadAndHostRemoval(t *testing.T) {
	a := thrifttest.StartServer(t, "a", framedBinary)
	b := thrifttest.StartServer(t, "b", framedBinary)
	cfg := func(prefix, host string) string {
		return proxyYAML("stat_prefix: "+prefix+`
route_config:
  routes:
    - match: {method_name: ""}
      route: {cluster: c}`, clusterYAML("c", "", host))
	}
	s := sluicetest.Start(t, cfg("one", a.Addr))
	c := thrifttest.Dial(t, s.Addr("thrift"), framedBinary, "")
	if v, err := c.Whoami(context.Background()); err != nil || v != "a" {
		t.Fatalf("whoami: %q %v", v, err)
	}
	s.WaitGauge("cluster.c.upstream_cx_active", 1, 5*time.Second)
	// Host a leaves the cluster: its idle pooled connection closes, and the
	// same client's next call goes to b.
	if err := s.Reload(cfg("one", b.Addr)); err != nil {
		t.Fatal(err)
	}
	wantCounters(t, s, map[string]uint64{"cluster.c.upstream_cx_destroy_local": 1})
	if v, err := c.Whoami(context.Background()); err != nil || v != "b" {
		t.Fatalf("whoami after the host change: %q %v", v, err)
	}
	// The listener's filter changes: the old filter serves c until it
	// leaves, then its pool closes.
	if err := s.Reload(cfg("two", b.Addr)); err != nil {
		t.Fatal(err)
	}
	s.WaitGauge("cluster.c.upstream_cx_active", 1, 5*time.Second)
	c.Trans.Close()
	wantCounters(t, s, map[string]uint64{"cluster.c.upstream_cx_destroy_local": 2})
	s.WaitGauge("cluster.c.upstream_cx_active", 0, 5*time.Second)
	c2 := thrifttest.Dial(t, s.Addr("thrift"), framedBinary, "")
	if v, err := c2.Whoami(context.Background()); err != nil || v != "b" {
		t.Fatalf("whoami on the new filter: %q %v", v, err)
	}
	wantCounters(t, s, map[string]uint64{"thrift.two.response_success": 1, "thrift.one.response_success": 2})
}
