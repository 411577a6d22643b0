package xds_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/sluice-proxy/sluice/config/envoy"
	"github.com/sluice-proxy/sluice/config/xds"
	_ "github.com/sluice-proxy/sluice/filters/all"
	"github.com/sluice-proxy/sluice/internal/poll"
	"github.com/sluice-proxy/sluice/internal/testenv"
	"github.com/sluice-proxy/sluice/proxy"
	"github.com/sluice-proxy/sluice/stats"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// sluice is an in-process sluice driven by an xDS client.
type sluice struct {
	t     *testing.T
	srv   *proxy.Server
	store *stats.Store
	xds   *xds.Client
}

func startSluice(t *testing.T, bootstrap string) *sluice {
	t.Helper()
	return startSluiceAt(t, bootstrap, filepath.Join(t.TempDir(), "envoy.yaml"))
}

// startSluiceNode is startSluice with the node identity given as
// --service-node and --service-cluster would.
func startSluiceNode(t *testing.T, bootstrap, id, cluster string) *sluice {
	t.Helper()
	return startSluiceOpts(t, bootstrap, filepath.Join(t.TempDir(), "envoy.yaml"), id, cluster)
}

// startSluiceAt is startSluice with the bootstrap written to file (its
// relative paths resolve against file's directory).
func startSluiceAt(t *testing.T, bootstrap, file string) *sluice {
	t.Helper()
	return startSluiceOpts(t, bootstrap, file, "", "")
}

func startSluiceOpts(t *testing.T, bootstrap, file, nodeID, nodeCluster string) *sluice {
	t.Helper()
	if err := os.WriteFile(file, []byte(bootstrap), 0o644); err != nil {
		t.Fatal(err)
	}
	bs, err := envoy.Decode(file, []byte(bootstrap))
	if err != nil {
		t.Fatal(err)
	}
	cfg, _, err := envoy.FromBootstrap(file, bs)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	store := stats.New()
	srv := proxy.New(store, log)
	if err := srv.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	cl, err := xds.New(xds.Options{File: file, Bootstrap: bs, Server: srv, Clusters: srv.Clusters,
		Stats: store.Root(), Log: log, BackoffBase: 20 * time.Millisecond, BackoffMax: 300 * time.Millisecond,
		FileInterval: 20 * time.Millisecond, NodeID: nodeID, NodeCluster: nodeCluster})
	if err != nil {
		t.Fatal(err)
	}
	srv.Secrets, srv.Clusters.Secrets = cl, cl // SDS over ADS, as cmd/sluice does
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { cl.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
		srv.Shutdown()
	})
	return &sluice{t: t, srv: srv, store: store, xds: cl}
}

func (s *sluice) counter(name string) uint64 { v, _ := s.store.CounterValue(name); return v }
func (s *sluice) gauge(name string) int64    { v, _ := s.store.GaugeValue(name); return v }

func (s *sluice) waitCounter(name string, want uint64) {
	s.t.Helper()
	poll.Eventually(s.t, 20*time.Second, func() bool { return s.counter(name) >= want },
		"%s: want >= %d, have %d", name, want, func() any { return s.counter(name) })
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// backendPort asks the redis-server behind a new connection to addr which
// port it serves (tells the backends apart).
func backendPort(addr string) (string, error) {
	c := redis.NewClient(&redis.Options{Addr: addr, PoolSize: 1, MaxRetries: -1, DialTimeout: 2 * time.Second})
	defer c.Close()
	v, err := c.ConfigGet(context.Background(), "port").Result()
	return v["port"], err
}

// load is a loop of real redis clients through a listener: each round a new
// connection (so that it picks a host anew) does a SET and a GET.
type load struct {
	addr        string
	ok, fail    atomic.Int64
	mu          sync.Mutex
	errs        []string
	stop        chan struct{}
	wg          sync.WaitGroup
	seenMu      sync.Mutex
	seenBackend map[string]int
}

func startLoad(t *testing.T, addr string, workers int) *load {
	l := &load{addr: addr, stop: make(chan struct{}), seenBackend: map[string]int{}}
	for i := 0; i < workers; i++ {
		l.wg.Add(1)
		go l.run(i)
	}
	t.Cleanup(l.halt)
	return l
}

func (l *load) run(i int) {
	defer l.wg.Done()
	ctx := context.Background()
	for n := 0; ; n++ {
		select {
		case <-l.stop:
			return
		default:
		}
		c := redis.NewClient(&redis.Options{Addr: l.addr, PoolSize: 1, MaxRetries: -1, DialTimeout: 2 * time.Second})
		key := "k" + string(rune('a'+i))
		err := c.Set(ctx, key, n, 0).Err()
		if err == nil {
			err = c.Get(ctx, key).Err()
		}
		var port string
		if err == nil {
			var v map[string]string
			v, err = c.ConfigGet(ctx, "port").Result()
			port = v["port"]
		}
		c.Close()
		if err != nil {
			l.fail.Add(1)
			l.mu.Lock()
			l.errs = append(l.errs, err.Error())
			l.mu.Unlock()
			continue
		}
		l.ok.Add(1)
		l.seenMu.Lock()
		l.seenBackend[port]++
		l.seenMu.Unlock()
	}
}

func (l *load) halt() {
	select {
	case <-l.stop:
		return
	default:
	}
	close(l.stop)
	l.wg.Wait()
}

// since returns how often each backend served since the last call.
func (l *load) since() map[string]int {
	l.seenMu.Lock()
	defer l.seenMu.Unlock()
	out := l.seenBackend
	l.seenBackend = map[string]int{}
	return out
}

func (l *load) failures() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.errs...)
}

func TestADSStateOfTheWorld(t *testing.T) { scenario(t, true, false) }
func TestADSDelta(t *testing.T)           { scenario(t, true, true) }
func TestPerTypeStateOfTheWorld(t *testing.T) {
	scenario(t, false, false)
}
func TestPerTypeDelta(t *testing.T) { scenario(t, false, true) }

// scenario drives one mode through the steps under live traffic:
// add a listener, move endpoints by EDS, add and remove a cluster, push a
// bad snapshot, stop and restart the control plane.
func scenario(t *testing.T, ads, delta bool) {
	a, b := testenv.Redis(t), testenv.Redis(t)
	cp := startControlPlane(t)
	src := adsSource()
	if !ads {
		src = apiSource(delta)
	}
	l1 := "127.0.0.1:" + itoa(testenv.FreePort(t))
	l2 := "127.0.0.1:" + itoa(testenv.FreePort(t))
	base := func(claAddr string) map[resource.Type][]types.Resource {
		return map[resource.Type][]types.Resource{
			resource.ClusterType:  {edsCluster("redis", src)},
			resource.EndpointType: {cla("redis", claAddr)},
			resource.ListenerType: {tcpListener("l1", l1, "redis")},
		}
	}
	cp.set("1", base(a.Addr()))
	s := startSluice(t, bootstrap(cp, ads, delta))

	// 1. The listener comes up once its EDS cluster has its endpoints.
	poll.Eventually(t, 20*time.Second, func() bool { return s.srv.ListenerAddr("l1") != "" }, "listener l1 never started")
	<-s.xds.Ready()
	if got := s.gauge("control_plane.connected_state"); got != 1 {
		t.Errorf("control_plane.connected_state = %d, want 1", got)
	}
	s.waitCounter("cluster_manager.cds.update_success", 1)
	s.waitCounter("listener_manager.lds.update_success", 1)
	s.waitCounter("cluster.redis.update_success", 1)
	ld := startLoad(t, l1, 4)
	poll.Eventually(t, 20*time.Second, func() bool { return ld.ok.Load() > 20 }, "no traffic through l1")

	// 2. EDS moves the endpoint from a to b: an open connection stays on a,
	// new ones go to b, nothing fails.
	held := redis.NewClient(&redis.Options{Addr: l1, PoolSize: 1, MaxRetries: -1})
	defer held.Close()
	if p, err := held.ConfigGet(context.Background(), "port").Result(); err != nil || p["port"] != itoa(a.Port()) {
		t.Fatalf("held connection: %v %v, want a's port %d", p, err, a.Port())
	}
	modified := s.counter("listener_manager.listener_modified")
	cp.set("2", base(b.Addr()))
	poll.Eventually(t, 20*time.Second, func() bool {
		p, err := backendPort(l1)
		return err == nil && p == itoa(b.Port())
	}, "new connections never reached b")
	ld.since()
	poll.Eventually(t, 20*time.Second, func() bool { return ld.since()[itoa(b.Port())] > 10 }, "load not on b")
	if p, err := held.ConfigGet(context.Background(), "port").Result(); err != nil || p["port"] != itoa(a.Port()) {
		t.Errorf("held connection after the move: %v %v, want still a (%d)", p, err, a.Port())
	}
	if m := s.counter("listener_manager.listener_modified"); m != modified {
		t.Errorf("an EDS update rebuilt listeners: listener_modified %d -> %d", modified, m)
	}
	s.waitCounter("cluster.redis.update_success", 2)

	// 3. A second listener with a cluster of its own comes, then both go.
	withL2 := base(b.Addr())
	withL2[resource.ClusterType] = append(withL2[resource.ClusterType], staticCluster("other", a.Addr()))
	withL2[resource.ListenerType] = append(withL2[resource.ListenerType], tcpListener("l2", l2, "other"))
	cp.set("3", withL2)
	poll.Eventually(t, 20*time.Second, func() bool {
		p, err := backendPort(l2)
		return err == nil && p == itoa(a.Port())
	}, "listener l2 never served")
	cp.set("4", base(b.Addr()))
	poll.Eventually(t, 20*time.Second, func() bool {
		return s.srv.Clusters.Get("other") == nil && s.srv.ListenerAddr("l2") == ""
	}, "cluster other and listener l2 never left")

	// 4. A bad snapshot is refused with its reason; the version stays.
	cdsVersion := s.gauge("cluster_manager.cds.version")
	rejected := s.counter("cluster_manager.cds.update_rejected")
	bad := base(b.Addr())
	broken := staticCluster("broken", a.Addr())
	broken.LbPolicy = 7 // LOAD_BALANCING_POLICY_CONFIG: not sluice's
	bad[resource.ClusterType] = append(bad[resource.ClusterType], broken)
	cp.set("5", bad)
	s.waitCounter("cluster_manager.cds.update_rejected", rejected+1)
	poll.Eventually(t, 20*time.Second, func() bool {
		for _, m := range cp.nacked() {
			if strings.Contains(m, `Cluster "broken": lb_policy`) {
				return true
			}
		}
		return false
	}, "no NACK naming the field; NACKs: %v", func() any { return joinLines(cp.nacked()) })
	if v := s.gauge("cluster_manager.cds.version"); v != cdsVersion {
		t.Errorf("cds version moved on a rejected update: %d -> %d", cdsVersion, v)
	}
	if s.srv.Clusters.Get("broken") != nil {
		t.Error("the refused cluster is running")
	}

	// A bad endpoint update is refused too: the endpoints stay on b.
	edsRejected := s.counter("cluster.redis.update_rejected")
	badEDS := base(a.Addr())
	badEDS[resource.EndpointType][0].(*endpointv3.ClusterLoadAssignment).Endpoints[0].Priority = 129 // Envoy allows 0..128
	cp.set("5b", badEDS)
	s.waitCounter("cluster.redis.update_rejected", edsRejected+1)
	poll.Eventually(t, 20*time.Second, func() bool {
		for _, m := range cp.nacked() {
			if strings.Contains(m, `ClusterLoadAssignment "redis": endpoints[0].priority: `) {
				return true
			}
		}
		return false
	}, "no NACK naming the endpoint field; NACKs: %v", func() any { return joinLines(cp.nacked()) })
	if p, err := backendPort(l1); err != nil || p != itoa(b.Port()) {
		t.Errorf("after the refused endpoints: %v %v, want still b", p, err)
	}

	// 5. The control plane goes away: traffic carries on while sluice
	// tries to reconnect.
	failures := s.counter("cluster_manager.cds.update_failure")
	cp.stop()
	poll.Eventually(t, 20*time.Second, func() bool { return s.gauge("control_plane.connected_state") == 0 },
		"connected_state still 1 with the control plane gone")
	n := ld.ok.Load()
	s.waitCounter("cluster_manager.cds.update_failure", failures+3)
	poll.Eventually(t, 20*time.Second, func() bool { return ld.ok.Load() > n+50 }, "no traffic while the control plane is away")

	// 6. It comes back with a new snapshot: sluice reconnects and converges.
	cp.set("6", base(a.Addr()))
	cp.restart()
	poll.Eventually(t, 20*time.Second, func() bool { return s.gauge("control_plane.connected_state") == 1 },
		"never reconnected")
	poll.Eventually(t, 20*time.Second, func() bool {
		p, err := backendPort(l1)
		return err == nil && p == itoa(a.Port())
	}, "never converged on snapshot 6")
	ld.halt()
	t.Logf("%d requests through l1; NACKs seen by the control plane:\n%s", ld.ok.Load(), joinLines(cp.nacked()))
	if f := ld.failures(); len(f) > 0 {
		t.Errorf("%d of %d requests failed through the updates: %v", len(f), ld.ok.Load()+int64(len(f)), f[:min(len(f), 5)])
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
