package integration

import (
	"context"
	"fmt"
	"github.com/sluice-proxy/sluice/internal/poll"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/goleak"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
)

// openFDs counts this process's open file descriptors other than anonymous
// inodes (the epoll sets and eventfds of the runtime and of tcp_proxy's
// process-wide event loops, which start on first use).
func openFDs(t *testing.T) int {
	t.Helper()
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	n := 0
	for _, e := range es {
		if l, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && !strings.HasPrefix(l, "anon_inode:") {
			n++
		}
	}
	return n
}

// ignoreEventLoops leaves out tcp_proxy's event loops: one per two cores
// for the process, started on first use, not owned by any filter.
var ignoreEventLoops = goleak.IgnoreAnyFunction("github.com/sluice-proxy/sluice/filters/tcpproxy.(*evLoop).run")

// TestKafkaMeshReloadsReleaseClients reloads a kafka_mesh listener and a
// kafka_broker listener in automatic rewrite mode 100 times while producers
// (franz-go at its defaults: idempotent) keep producing through both, some
// on one long connection, others connecting anew each round. Every reload
// builds a new mesh with its own upstream clients and a new kafka_broker
// that takes the per-broker listeners over; the retired meshes must close
// once their last connection ends. After the traffic stops and the config
// goes back to one plain tcp_proxy, the process's goroutines and file
// descriptors are back to what they were before the first Kafka filter was
// built.
func TestKafkaMeshReloadsReleaseClients(t *testing.T) {
	a, b := kafkaBrokers(t, 2), kafkaBrokers(t, 1)
	port := freePort(t)
	plain := fmt.Sprintf(`
listeners:
  - name: mesh
    address: 127.0.0.1:%s
    filters:
      - tcp_proxy: {stat_prefix: idle, cluster: nowhere}
clusters:
  - {name: nowhere, type: static, connect_timeout: 1s, endpoints: ["127.0.0.1:1"]}
`, port)
	mesh := func(maxBytes int) string {
		return fmt.Sprintf(`
listeners:
  - name: mesh
    address: 127.0.0.1:%[1]s
    filters:
      - kafka_mesh:
          advertised_host: 127.0.0.1
          advertised_port: %[1]s
          max_request_bytes: %[4]d
          upstream_clusters:
            - {cluster_name: a, bootstrap_servers: "%[2]s", partition_count: 2}
            - {cluster_name: b, bootstrap_servers: "%[3]s", partition_count: 1}
          forwarding_rules:
            - {target_cluster: a, topic_prefix: a-}
            - {target_cluster: b, topic_prefix: b-}
  - name: broker
    address: 127.0.0.1:0
    filters:
      - kafka_broker: {stat_prefix: reloads, broker_address_rewrite: {auto: {bind_host: 127.0.0.1}}}
      - tcp_proxy: {stat_prefix: reloads, cluster: a}
clusters:
  - {name: a, type: static, connect_timeout: 1s, endpoints: ["%[5]s"]}
`, port, strings.Join(a, ","), strings.Join(b, ","), maxBytes, a[0])
	}
	s := sluicetest.Start(t, plain)
	baseGoroutines := goleak.IgnoreCurrent()
	baseFDs, baseCount := openFDs(t), runtime.NumGoroutine()

	if err := s.Reload(mesh(1 << 20)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	addrs := []string{s.Addr("mesh"), s.Addr("broker")}
	var produced atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	stop := make(chan struct{})
	// Per listener, one long-lived producer and one that reconnects every
	// round.
	for i, fresh := range []bool{false, true, false, true} {
		addr := addrs[i/2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			var cl *kgo.Client
			defer func() {
				if cl != nil {
					cl.Close()
				}
			}()
			for round := 0; ; round++ {
				select {
				case <-stop:
					return
				default:
				}
				if cl == nil || fresh {
					if cl != nil {
						cl.Close()
					}
					var err error
					if cl, err = kgo.NewClient(kgo.SeedBrokers(addr), kgo.AllowAutoTopicCreation()); err != nil {
						errs <- err
						return
					}
				}
				rs := []*kgo.Record{{Topic: "a-reload", Value: []byte(fmt.Sprint(i, round))}}
				if addr == addrs[0] {
					rs = append(rs, &kgo.Record{Topic: "b-reload", Value: []byte(fmt.Sprint(i, round))})
				}
				if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
					errs <- fmt.Errorf("producer %d round %d: %w", i, round, err)
					return
				}
				produced.Add(2)
			}
		}()
	}
	for i := 0; i < 100; i++ {
		if err := s.Reload(mesh(1<<20 + i%2)); err != nil {
			t.Fatalf("reload %d: %v", i, err)
		}
		// Some traffic between reloads, so that connections span several
		// generations of chain sets.
		want := produced.Load() + 4
		poll.Eventually(t, 30*time.Second, func() bool { return produced.Load() >= want || len(errs) > 0 },
			"no record produced after reload %d", i)
		if len(errs) > 0 {
			close(stop)
			wg.Wait()
			t.Fatal(<-errs)
		}
	}
	close(stop)
	wg.Wait()
	if len(errs) > 0 {
		t.Fatal(<-errs)
	}
	t.Logf("%d records produced across 100 reloads; goroutines %d (baseline %d), fds %d (baseline %d)",
		produced.Load(), runtime.NumGoroutine(), baseCount, openFDs(t), baseFDs)
	if err := s.Reload(plain); err != nil {
		t.Fatal(err)
	}
	var leaked error
	poll.Eventually(t, 30*time.Second, func() bool {
		leaked = goleak.Find(baseGoroutines, ignoreEventLoops)
		return leaked == nil && openFDs(t) <= baseFDs
	}, "after 100 reloads: fds %d (baseline %d), goroutines: %v", func() any { return openFDs(t) }, baseFDs, func() any { return leaked })
	t.Logf("after the last Kafka filter closed: goroutines %d, fds %d", runtime.NumGoroutine(), openFDs(t))
}

// TestKafkaMeshFailedReloadClosesClients applies a config that cannot be
// built: the reload is refused, and the clients built on the way are closed:
// those of a complete listener before the failing one, of the failing
// listener's first filter chain, and of the failing mesh's first cluster
// (its second cluster's bootstrap address does not parse).
func TestKafkaMeshFailedReloadClosesClients(t *testing.T) {
	a := kafkaBrokers(t, 1)
	const idle = `
  - name: idle
    address: 127.0.0.1:0
    filters:
      - tcp_proxy: {stat_prefix: idle, cluster: nowhere}`
	const clusters = `
clusters:
  - {name: nowhere, type: static, connect_timeout: 1s, endpoints: ["127.0.0.1:1"]}
`
	mesh := func(second string) string {
		return fmt.Sprintf(`{kafka_mesh: {advertised_host: 127.0.0.1, advertised_port: 9092,
            upstream_clusters: [{cluster_name: a, bootstrap_servers: "%s"}, {cluster_name: b, bootstrap_servers: "%s"}],
            forwarding_rules: [{target_cluster: a, topic_prefix: a-}, {target_cluster: b, topic_prefix: b-}]}}`, a[0], second)
	}
	bad := fmt.Sprintf(`
  - name: good
    address: 127.0.0.1:0
    filters: [%s]
  - name: bad
    address: 127.0.0.1:0
    filter_chains:
      - match: {source_prefixes: ["10.0.0.0/8"]}
        filters: [%s]
      - filters: [%s]`, mesh(a[0]), mesh(a[0]), mesh("[::1"))
	s := sluicetest.Start(t, "listeners:"+idle+clusters)
	base := goleak.IgnoreCurrent()
	err := s.Reload("listeners:" + idle + bad + clusters)
	if err == nil || !strings.Contains(err.Error(), "listeners[2].filter_chains[1].filters[0].kafka_mesh") {
		t.Fatalf("reload: %v, want a kafka_mesh build error of listeners[2].filter_chains[1]", err)
	}
	var leaked error
	poll.Eventually(t, 30*time.Second, func() bool { leaked = goleak.Find(base); return leaked == nil },
		"after a refused reload: %v", func() any { return leaked })
}
