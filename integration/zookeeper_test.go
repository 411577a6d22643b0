package integration

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
	"github.com/sluice-proxy/sluice/proxy"
)

// zkYAML is a listener "zk" with zookeeper_proxy (and extra filters before
// it) in front of the server.
func zkYAML(server, zkExtra, extraFilters string) string {
	return fmt.Sprintf(`
listeners:
  - name: zk
    address: 127.0.0.1:0
    filters:
%s      - zookeeper_proxy: {stat_prefix: zk%s}
      - tcp_proxy: {stat_prefix: zk, cluster: zookeeper}
clusters:
  - name: zookeeper
    connect_timeout: 2s
    endpoints: ["%s"]
`, extraFilters, zkExtra, server)
}

// modes runs f with the event loops and with a goroutine per direction.
// The event loops must have been used in the first mode only, unless
// gated (a gated connection stays on the goroutine path).
func modes(t *testing.T, f func(t *testing.T, opt proxy.Option) *sluicetest.Sluice) {
	modesGated(t, false, f)
}

func modesGated(t *testing.T, gated bool, f func(t *testing.T, opt proxy.Option) *sluicetest.Sluice) {
	for _, m := range []struct {
		name  string
		loops int
	}{{"loops", -1}, {"goroutines", 0}} {
		t.Run(m.name, func(t *testing.T) {
			s := f(t, proxy.IOLoops(m.loops))
			if g := s.Server.Loops(); (g != nil && g.Started() > 0) != (m.loops != 0 && !gated) {
				t.Errorf("event loops used: %v, want %v", g != nil && g.Started() > 0, m.loops != 0 && !gated)
			}
		})
	}
}

// dialer remembers the client's connections so a test can cut them.
type dialer struct {
	mu    sync.Mutex
	conns []net.Conn
}

func (d *dialer) dial(network, addr string, timeout time.Duration) (net.Conn, error) {
	c, err := net.DialTimeout(network, addr, timeout)
	if err == nil {
		d.mu.Lock()
		d.conns = append(d.conns, c)
		d.mu.Unlock()
	}
	return c, err
}

func (d *dialer) cut() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, c := range d.conns {
		c.Close()
	}
}

// connect opens a go-zookeeper session at addr and waits until it has one.
// With d, the session's connections are dialed through it.
func connect(t *testing.T, addr string, d *dialer) *zk.Conn {
	t.Helper()
	c, _ := connectEv(t, addr, d)
	return c
}

// connectEv is connect that also returns the session's event channel.
func connectEv(t *testing.T, addr string, d *dialer) (*zk.Conn, <-chan zk.Event) {
	t.Helper()
	var (
		c   *zk.Conn
		ev  <-chan zk.Event
		err error
	)
	if d != nil {
		c, ev, err = zk.Connect([]string{addr}, 20*time.Second, zk.WithLogInfo(false), zk.WithDialer(d.dial))
	} else {
		c, ev, err = zk.Connect([]string{addr}, 20*time.Second, zk.WithLogInfo(false))
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	waitState(t, ev, zk.StateHasSession)
	return c, ev
}

func waitState(t *testing.T, ev <-chan zk.Event, want zk.State) {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case e := <-ev:
			if e.State == want {
				return
			}
		case <-timeout:
			t.Fatalf("no %v within 20s", want)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

var acl = zk.WorldACL(zk.PermAll)

// TestZooKeeperOperations runs every common operation through zookeeper_proxy with
// go-zookeeper against ZooKeeper 3.8 and checks Envoy's counters exactly.
func TestZooKeeperOperations(t *testing.T) {
	srv := testenv.ZooKeeper(t)
	modes(t, func(t *testing.T, opt proxy.Option) *sluicetest.Sluice {
		s := sluicetest.StartWith(t, zkYAML(srv.Addr(), ", enable_latency_threshold_metrics: true, default_latency_threshold: 60s", ""), opt)
		root := fmt.Sprintf("/ops-%d", time.Now().UnixNano())
		direct := connect(t, srv.Addr(), nil)
		c := connect(t, s.Addr("zk"), nil)

		must(c.Create(root, []byte("v1"), 0, acl))
		if b, _ := must2(c.Get(root)); string(b) != "v1" {
			t.Fatalf("get = %q", b)
		}
		must(c.Set(root, []byte("v2"), 0))
		if ok, _ := must2(c.Exists(root)); !ok {
			t.Fatal("exists = false")
		}
		must(c.Create(root+"/c1", nil, 0, acl))
		must(c.Create(root+"/eph", nil, zk.FlagEphemeral, acl))
		if kids, _ := must2(c.Children(root)); len(kids) != 2 {
			t.Fatalf("children = %v", kids)
		}
		must(c.Multi(&zk.CreateRequest{Path: root + "/m1", Acl: acl}, &zk.SetDataRequest{Path: root, Data: []byte("v3"), Version: -1}))
		_, _, ch, err := c.GetW(root)
		if err != nil {
			t.Fatal(err)
		}
		must(direct.Set(root, []byte("v4"), -1))
		select {
		case e := <-ch:
			if e.Type != zk.EventNodeDataChanged || e.Path != root {
				t.Fatalf("event %+v", e)
			}
		case <-time.After(20 * time.Second):
			t.Fatal("the watch did not fire")
		}
		if err := c.Delete(root+"/c1", -1); err != nil {
			t.Fatal(err)
		}
		c.Close()
		s.WaitCounter("zk.zookeeper.close_resp", 1, 20*time.Second)
		// The ephemeral node went with the session.
		if ok, _ := must2(direct.Exists(root + "/eph")); ok {
			t.Fatal("the ephemeral node outlived its session")
		}

		for name, want := range map[string]uint64{
			"connect_rq": 1, "connect_resp": 1, "connect_readonly_rq": 0,
			"create_rq": 3, "create_resp": 3, "getdata_rq": 2, "getdata_resp": 2,
			"setdata_rq": 1, "setdata_resp": 1, "exists_rq": 1, "exists_resp": 1,
			"getchildren2_rq": 1, "getchildren2_resp": 1, "multi_rq": 1, "multi_resp": 1,
			"delete_rq": 1, "delete_resp": 1, "close_rq": 1, "close_resp": 1,
			"watch_event": 1, "decoder_error": 0,
			"getdata_resp_fast": 2, "getdata_resp_slow": 0, "connect_resp_fast": 1,
		} {
			if got := s.Counter("zk.zookeeper." + name); got != want {
				t.Errorf("%s = %d, want %d", name, got, want)
			}
		}
		if p, r := s.Counter("zk.zookeeper.ping_rq"), s.Counter("zk.zookeeper.ping_resp"); p != r {
			t.Errorf("ping_rq = %d, ping_resp = %d", p, r)
		}
		if s.Counter("zk.zookeeper.request_bytes") == 0 || s.Counter("zk.zookeeper.response_bytes") == 0 {
			t.Error("request_bytes or response_bytes not counted")
		}
		for _, h := range []string{"connect_response_latency", "getdata_resp_latency", "multi_resp_latency", "close_resp_latency"} {
			if d, ok := s.Store.HistogramSnapshot("zk.zookeeper." + h); !ok || d.Count == 0 {
				t.Errorf("histogram %s: %+v, %v", h, d, ok)
			}
		}
		return s
	})
}

func must2[A, B any](a A, b B, err error) (A, B) {
	if err != nil {
		panic(err)
	}
	return a, b
}

// smokeZooKeeper runs examples/zookeeper.yaml: a session through it, a
// refused path answered NOAUTH, and the session still usable.
func smokeZooKeeper(t *testing.T, file string) {
	srv := testenv.ZooKeeper(t)
	s := startExample(t, file, map[string]string{"127.0.0.1:2181": srv.Addr()})
	c := connect(t, s.Addr("zookeeper"), nil)
	node := fmt.Sprintf("/example-%d", time.Now().UnixNano())
	must(c.Create(node, []byte("hi"), 0, acl))
	if _, _, err := c.Get("/secrets/x"); !errors.Is(err, zk.ErrNoAuth) {
		t.Fatalf("get /secrets/x: %v, want ErrNoAuth", err)
	}
	if b, _ := must2(c.Get(node)); string(b) != "hi" {
		t.Fatalf("get %s = %q", node, b)
	}
	for name, want := range map[string]uint64{"zk.zookeeper.create_rq": 1, "zk.zookeeper.getdata_resp": 2,
		"zk.zookeeper.getdata_resp_fast": 2, "guard.rbac.denied": 1} {
		if got := s.Counter(name); got != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}
}
