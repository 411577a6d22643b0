package cluster

import (
	"context"
	"fmt"
	"net"
	"slices"
	"testing"

	"github.com/sluice-proxy/sluice/config"
)

func hostAddrs(c *Cluster) []string {
	var out []string
	for _, h := range c.Hosts() {
		out = append(out, h.Address()+" "+h.Flags().String())
	}
	slices.Sort(out)
	return out
}

// TestStrictDNS: every address is a host; a vanished address with an open
// connection drains (pending_dynamic_removal, never picked) and is dropped
// when the connection closes; a failed lookup keeps the previous hosts.
func TestStrictDNS(t *testing.T) {
	srv := newServer(t, ping)
	_, port, _ := net.SplitHostPort(srv.addr)
	res := &fakeResolver{}
	res.set("db.test", "127.0.0.1", "127.0.0.2")
	m, st := testManager(t)
	m.Resolver = res
	m.Dialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, srv.addr) // every host is the one server
	}
	m.Apply([]config.Cluster{clusterCfg(t, fmt.Sprintf(`{name: c, type: strict_dns, dns_refresh_rate: 1h, endpoints: ["db.test:%s"]}`, port))})
	c := m.Get("c")
	a1, a2 := "127.0.0.1:"+port, "127.0.0.2:"+port
	if got := hostAddrs(c); !slices.Equal(got, []string{a1 + " healthy", a2 + " healthy"}) {
		t.Fatalf("hosts %v", got)
	}
	var conn *UpstreamConn
	for conn == nil || conn.Host.Address() != a2 {
		up, err := c.Connect(context.Background(), 0, false)
		if err != nil {
			t.Fatal(err)
		}
		if up.Host.Address() == a2 {
			conn = up
		} else {
			up.Close()
		}
	}
	events := make(chan HostEvent, 4)
	defer c.Subscribe(func(ev HostEvent) { events <- ev })()

	res.set("db.test", "127.0.0.1")
	c.resolveOnce(context.Background(), c.Config())
	if got := hostAddrs(c); !slices.Equal(got, []string{a1 + " healthy", a2 + " /pending_dynamic_removal"}) {
		t.Fatalf("after a2 left DNS: %v", got)
	}
	for range 10 {
		if h := c.Pick(0, false); h.Address() != a1 {
			t.Fatalf("picked draining host %s", h.Address())
		}
	}
	if ev := <-events; ev.Kind != HostUnhealthy {
		t.Fatalf("event %v, want unhealthy", ev.Kind)
	}
	conn.Close()
	if got := hostAddrs(c); !slices.Equal(got, []string{a1 + " healthy"}) {
		t.Fatalf("after the drain: %v", got)
	}
	if ev := <-events; ev.Kind != HostRemoved || ev.Host.Address() != a2 {
		t.Fatalf("event %v %s, want removed %s", ev.Kind, ev.Host.Address(), a2)
	}

	res.set("other", "x") // db.test now fails to resolve
	res.mu.Lock()
	delete(res.names, "db.test")
	res.mu.Unlock()
	c.resolveOnce(context.Background(), c.Config())
	if got := hostAddrs(c); !slices.Equal(got, []string{a1 + " healthy"}) {
		t.Fatalf("a failed lookup changed hosts: %v", got)
	}
	if counter(st, "cluster.c.update_failure") != 1 || counter(st, "cluster.c.update_success") != 2 {
		t.Fatalf("update stats %d %d", counter(st, "cluster.c.update_failure"), counter(st, "cluster.c.update_success"))
	}
}

// TestStrictDNSRefresh: the refresh loop picks up a new address.
func TestStrictDNSRefresh(t *testing.T) {
	res := &fakeResolver{}
	res.set("db.test", "127.0.0.1")
	m, _ := testManager(t)
	m.Resolver = res
	m.Apply([]config.Cluster{clusterCfg(t, `{name: c, type: strict_dns, dns_refresh_rate: 10ms, endpoints: ["db.test:80"]}`)})
	c := m.Get("c")
	res.set("db.test", "127.0.0.1", "127.0.0.3")
	eventually(t, "second address", func() bool { return len(c.Hosts()) == 2 })
}

// TestLogicalDNS: one host named as configured, dialing the first address.
func TestLogicalDNS(t *testing.T) {
	srv := newServer(t, ping)
	host, port, _ := net.SplitHostPort(srv.addr)
	res := &fakeResolver{}
	res.set("db.test", host, "127.0.0.9")
	m, _ := testManager(t)
	m.Resolver = res
	m.Apply([]config.Cluster{clusterCfg(t, fmt.Sprintf(`{name: c, type: logical_dns, dns_refresh_rate: 1h, endpoints: ["db.test:%s"]}`, port))})
	c := m.Get("c")
	hs := c.Hosts()
	if len(hs) != 1 || hs[0].Address() != "db.test:"+port || hs[0].DialAddress() != srv.addr {
		t.Fatalf("host %s dials %s", hs[0].Address(), hs[0].DialAddress())
	}
	up, err := c.Connect(context.Background(), 0, false)
	if err != nil {
		t.Fatal(err)
	}
	up.Close()
	res.set("db.test", "127.0.0.9")
	c.resolveLogical(context.Background(), c.Config())
	if got := c.Hosts()[0]; got != hs[0] || got.DialAddress() != "127.0.0.9:"+port {
		t.Fatalf("after re-resolve: same host %v, dials %s", got == hs[0], got.DialAddress())
	}
}
