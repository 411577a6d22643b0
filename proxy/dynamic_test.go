package proxy_test

import (
	"context"
	"fmt"
	"github.com/sluice-proxy/sluice/internal/poll"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
)

// dynamicHosts records the DynamicListeners each build of the test_dynamic
// observer was given, by owning listener.
var dynamicHosts = struct {
	sync.Mutex
	m map[string]filters.DynamicListeners
}{m: map[string]filters.DynamicListeners{}}

type dynamicFactory struct{}

func (dynamicFactory) Name() string       { return "test_dynamic" }
func (dynamicFactory) Kind() filters.Kind { return filters.Observer }
func (dynamicFactory) NewConfig() any     { return &struct{}{} }
func (dynamicFactory) Build(_ any, env *filters.Env) (any, error) {
	dynamicHosts.Lock()
	dynamicHosts.m[env.Listener] = env.Listeners
	dynamicHosts.Unlock()
	return closingFilter{new(atomic.Int32)}, nil
}

func dynamicHost(t *testing.T, owner string) filters.DynamicListeners {
	t.Helper()
	dynamicHosts.Lock()
	defer dynamicHosts.Unlock()
	h := dynamicHosts.m[owner]
	if h == nil {
		t.Fatalf("no DynamicListeners for %s", owner)
	}
	return h
}

// greeter is a terminal that writes its name and ends.
type greeter string

func (g greeter) Serve(_ context.Context, _ *filters.Session, c filters.Conn) { c.Write([]byte(g)) }

// listenersShown returns /listeners as name -> address.
func listenersShown(s *sluicetest.Sluice) map[string]string {
	out := map[string]string{}
	for _, l := range s.Server.Listeners() {
		out[l.Name] = l.Address
	}
	return out
}

func refused(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		c.Close()
	}
	return err != nil
}

func TestDynamicListeners(t *testing.T) {
	up := serve(t, echo)
	cfg := func(owner string) string {
		return fmt.Sprintf(`
listeners:
  - name: %s
    address: 127.0.0.1:0
    filters: [{test_dynamic: {}}, {tcp_proxy: {stat_prefix: d, cluster: c}}]
clusters:
  - {name: c, endpoints: ["%s"]}
`, owner, up)
	}
	s := startSluice(t, cfg("own"))
	h := dynamicHost(t, "own")
	one, err := h.Listen("x", "127.0.0.1:0", filters.DynamicChain{Terminal: greeter("one")})
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, one.Addr()); got != "one" {
		t.Fatalf("dynamic listener served %q", got)
	}
	if got := listenersShown(s)["own/x"]; got != one.Addr() {
		t.Fatalf("/listeners shows own/x at %q, want %s: %v", got, one.Addr(), listenersShown(s))
	}
	stat := "listener." + strings.ReplaceAll(one.Addr(), ":", "_") + ".downstream_cx_total"
	s.WaitCounter(stat, 1, 5*time.Second)

	// Listen again under the name: the same socket, the new chain; the first
	// handle no longer closes it.
	two, err := h.Listen("x", "127.0.0.1:0", filters.DynamicChain{Terminal: greeter("two")})
	if err != nil {
		t.Fatal(err)
	}
	if two.Addr() != one.Addr() {
		t.Fatalf("taken over at %s, was %s", two.Addr(), one.Addr())
	}
	one.Close()
	if got := readAll(t, two.Addr()); got != "two" {
		t.Fatalf("after the takeover the listener served %q", got)
	}
	two.Close()
	poll.Eventually(t, 5*time.Second, func() bool { return refused(two.Addr()) && listenersShown(s)["own/x"] == "" },
		"own/x still listed or accepting after Close: %v", func() any { return listenersShown(s) })

	// A reload that removes the owning listener removes its dynamic ones.
	y, err := h.Listen("y", "127.0.0.1:0", filters.DynamicChain{Terminal: greeter("y")})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(cfg("other")); err != nil {
		t.Fatal(err)
	}
	poll.Eventually(t, 5*time.Second, func() bool { return refused(y.Addr()) && listenersShown(s)["own/y"] == "" },
		"own/y outlived its owning listener: %v", func() any { return listenersShown(s) })

	// Shutdown stops the rest and refuses new ones.
	z, err := dynamicHost(t, "other").Listen("z", "127.0.0.1:0", filters.DynamicChain{Terminal: greeter("z")})
	if err != nil {
		t.Fatal(err)
	}
	s.Server.Shutdown()
	if !refused(z.Addr()) {
		t.Error("a dynamic listener accepts after shutdown")
	}
	if _, err := dynamicHost(t, "other").Listen("w", "127.0.0.1:0", filters.DynamicChain{Terminal: greeter("w")}); err == nil {
		t.Error("Listen after shutdown succeeded")
	}
}
