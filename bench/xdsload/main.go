// Command xdsload measures sluice under a large xDS update: it runs
// go-control-plane's server (ADS) in process, starts the sluice binary on a
// bootstrap pointing at it, keeps live request/response traffic going
// through one listener to an in-process echo server, pushes a snapshot of
// -clusters EDS clusters with -endpoints endpoints in all, and prints the
// time from the push to sluice's ACK of each type, sluice's RSS before and
// after, and the live traffic's latency percentiles before and during the
// update. A CPU profile of sluice during the update is written to -profile.
//
//	xdsload -sluice ./sluice [-clusters 10000] [-endpoints 100000] [-delta]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	clusterv3 "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpointv3 "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	tcpproxyv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"github.com/envoyproxy/go-control-plane/pkg/cache/types"
	cachev3 "github.com/envoyproxy/go-control-plane/pkg/cache/v3"
	"github.com/envoyproxy/go-control-plane/pkg/resource/v3"
	serverv3 "github.com/envoyproxy/go-control-plane/pkg/server/v3"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
)

func main() {
	bin := flag.String("sluice", "", "the sluice binary")
	nClusters := flag.Int("clusters", 10000, "EDS clusters in the big snapshot")
	nEndpoints := flag.Int("endpoints", 100000, "endpoints in all, spread over the clusters")
	delta := flag.Bool("delta", false, "ADS over Delta instead of State of the World")
	clients := flag.Int("clients", 8, "live connections doing request/response")
	settle := flag.Duration("settle", 3*time.Second, "live traffic measured before the push")
	profile := flag.String("profile", "xds.cpu.pprof", "where to write sluice's CPU profile of the update")
	profSecs := flag.Int("profile-seconds", 12, "length of the CPU profile, from just before the push")
	flag.Parse()
	if *bin == "" {
		log.Fatal("-sluice is required")
	}
	dir, _ := os.MkdirTemp("", "xdsload")
	defer os.RemoveAll(dir)

	echo := listen()
	go serveEcho(echo)
	acks := newAcks()
	cache := cachev3.NewSnapshotCache(true, cachev3.IDHash{}, nil)
	cpLn := listen()
	cb := serverv3.CallbackFuncs{
		StreamRequestFunc: func(_ int64, r *discoveryv3.DiscoveryRequest) error {
			acks.see(r.GetTypeUrl(), r.GetVersionInfo(), r.GetErrorDetail().GetMessage())
			return nil
		},
		StreamDeltaRequestFunc: func(_ int64, r *discoveryv3.DeltaDiscoveryRequest) error {
			acks.seeDelta(r.GetTypeUrl(), r.GetResponseNonce(), r.GetErrorDetail().GetMessage())
			return nil
		},
		StreamDeltaResponseFunc: func(_ int64, _ *discoveryv3.DeltaDiscoveryRequest, resp *discoveryv3.DeltaDiscoveryResponse) {
			acks.sentDelta(resp.GetTypeUrl(), resp.GetNonce(), resp.GetSystemVersionInfo())
		},
	}
	gs := grpc.NewServer(grpc.MaxRecvMsgSize(1 << 30))
	xs := serverv3.NewServer(context.Background(), cache, cb)
	discoveryv3.RegisterAggregatedDiscoveryServiceServer(gs, xs)
	go gs.Serve(cpLn)
	defer gs.Stop()

	live, admin := freeAddr(), freeAddr()
	set(cache, "1", snapshot(live, echo.Addr().String(), 0, 0, 1000))
	api := "GRPC"
	if *delta {
		api = "DELTA_GRPC"
	}
	bs := fmt.Sprintf(`node: {id: bench, cluster: bench}
admin: {address: {socket_address: {address: 127.0.0.1, port_value: %s}}}
dynamic_resources:
  ads_config: {api_type: %s, transport_api_version: V3, grpc_services: [{envoy_grpc: {cluster_name: xds}}]}
  cds_config: {ads: {}, resource_api_version: V3}
  lds_config: {ads: {}, resource_api_version: V3}
static_resources:
  clusters:
  - name: xds
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: xds
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: %s}}}}]}]
`, port(admin), api, port(cpLn.Addr().String()))
	file := filepath.Join(dir, "envoy.yaml")
	os.WriteFile(file, []byte(bs), 0o644)
	cmd := exec.Command(*bin, "-c", file, "-log-level", "info")
	logs := &lineLog{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	waitFor("the live listener", func() bool {
		c, err := net.Dial("tcp", live)
		if err == nil {
			c.Close()
		}
		return err == nil
	})

	lat := &latencies{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < *clients; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); drive(live, lat, stop) }()
	}
	time.Sleep(*settle) // a measurement window, not a wait for an event
	before := lat.take()
	rssBefore := rss(cmd.Process.Pid)

	prof := make(chan []byte, 1)
	go func() {
		prof <- get("http://" + admin + "/debug/pprof/profile?seconds=" + strconv.Itoa(*profSecs))
	}()
	time.Sleep(200 * time.Millisecond) // let the profile start first
	big := snapshot(live, echo.Addr().String(), *nClusters, *nEndpoints, 1000)
	start := time.Now()
	set(cache, "2", big)
	cds := acks.wait(resource.ClusterType, "2")
	eds := acks.wait(resource.EndpointType, "2")
	during := lat.take()
	time.Sleep(time.Second) // live traffic just after, for comparison
	after := lat.take()
	// Every endpoint moves (new ports): an EDS-only change.
	moved := snapshot(live, echo.Addr().String(), *nClusters, *nEndpoints, 2000)
	start3 := time.Now()
	set(cache, "3", moved)
	eds3 := acks.wait(resource.EndpointType, "3")
	during3 := lat.take()
	close(stop)
	wg.Wait()
	rssAfter := rss(cmd.Process.Pid)
	p := <-prof
	os.WriteFile(*profile, p, 0o644)

	mode := "ADS State of the World"
	if *delta {
		mode = "ADS Delta"
	}
	fmt.Printf("xDS update: %d clusters, %d endpoints, %s (figures under load from other processes are noisy)\n", *nClusters, *nEndpoints, mode)
	fmt.Printf("  push -> CDS ACK   %v%s\n", cds.at.Sub(start).Round(time.Millisecond), cds.nack)
	fmt.Printf("  push -> EDS ACK   %v%s\n", eds.at.Sub(start).Round(time.Millisecond), eds.nack)
	fmt.Printf("  every endpoint moved: push -> EDS ACK %v%s; live traffic during: %s\n",
		eds3.at.Sub(start3).Round(time.Millisecond), eds3.nack, during3)
	fmt.Printf("  sluice RSS        %.1f MiB before, %.1f MiB after\n", float64(rssBefore)/(1<<20), float64(rssAfter)/(1<<20))
	fmt.Printf("  live traffic      before: %s\n", before)
	fmt.Printf("                    during: %s\n", during)
	fmt.Printf("                    after:  %s\n", after)
	fmt.Printf("  CPU profile       %s (go tool pprof -top %s)\n", *profile, *profile)
	fmt.Println("  sluice's own account (update received -> applied):")
	for _, l := range logs.matching("xDS update applied") {
		fmt.Println("   ", l)
	}
}

// snapshot is the live listener and cluster plus n EDS clusters with eps
// endpoints in all (addresses in 10.0.0.0/8, never dialed).
func snapshot(live, echo string, n, eps, portBase int) map[resource.Type][]types.Resource {
	tp, _ := anypb.New(&tcpproxyv3.TcpProxy{StatPrefix: "live", ClusterSpecifier: &tcpproxyv3.TcpProxy_Cluster{Cluster: "live"}})
	res := map[resource.Type][]types.Resource{
		resource.ListenerType: {&listenerv3.Listener{Name: "live", Address: addr(live),
			FilterChains: []*listenerv3.FilterChain{{Filters: []*listenerv3.Filter{{Name: "tcp",
				ConfigType: &listenerv3.Filter_TypedConfig{TypedConfig: tp}}}}}}},
		resource.ClusterType: {&clusterv3.Cluster{Name: "live", ConnectTimeout: durationpb.New(time.Second),
			ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_STATIC},
			LoadAssignment:       cla("live", []string{echo})}},
	}
	ads := &corev3.ConfigSource{ResourceApiVersion: corev3.ApiVersion_V3,
		ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}}}
	k := 0
	for i := 0; i < n; i++ {
		name := "c" + strconv.Itoa(i)
		res[resource.ClusterType] = append(res[resource.ClusterType], &clusterv3.Cluster{Name: name,
			ConnectTimeout:       durationpb.New(time.Second),
			ClusterDiscoveryType: &clusterv3.Cluster_Type{Type: clusterv3.Cluster_EDS},
			EdsClusterConfig:     &clusterv3.Cluster_EdsClusterConfig{EdsConfig: ads}})
		per := eps / n
		if i < eps%n {
			per++
		}
		var as []string
		for j := 0; j < per; j++ {
			as = append(as, fmt.Sprintf("10.%d.%d.%d:%d", k>>16&255, k>>8&255, k&255, portBase+j))
			k++
		}
		res[resource.EndpointType] = append(res[resource.EndpointType], cla(name, as))
	}
	return res
}

func cla(name string, addrs []string) *endpointv3.ClusterLoadAssignment {
	var lbs []*endpointv3.LbEndpoint
	for _, a := range addrs {
		lbs = append(lbs, &endpointv3.LbEndpoint{HostIdentifier: &endpointv3.LbEndpoint_Endpoint{
			Endpoint: &endpointv3.Endpoint{Address: addr(a)}}})
	}
	return &endpointv3.ClusterLoadAssignment{ClusterName: name, Endpoints: []*endpointv3.LocalityLbEndpoints{{LbEndpoints: lbs}}}
}

func addr(hp string) *corev3.Address {
	h, p, _ := net.SplitHostPort(hp)
	n, _ := strconv.Atoi(p)
	return &corev3.Address{Address: &corev3.Address_SocketAddress{SocketAddress: &corev3.SocketAddress{
		Address: h, PortSpecifier: &corev3.SocketAddress_PortValue{PortValue: uint32(n)}}}}
}

func set(cache cachev3.SnapshotCache, v string, res map[resource.Type][]types.Resource) {
	s, err := cachev3.NewSnapshot(v, res)
	if err != nil {
		log.Fatal(err)
	}
	if err := cache.SetSnapshot(context.Background(), "bench", s); err != nil {
		log.Fatal(err)
	}
}

// acks records when sluice ACKed a version of a type.
type acks struct {
	mu    sync.Mutex
	cond  *sync.Cond
	seen  map[string]ack
	nonce map[string]string // delta: nonce -> version sent
}

type ack struct {
	at   time.Time
	nack string
}

func newAcks() *acks {
	a := &acks{seen: map[string]ack{}, nonce: map[string]string{}}
	a.cond = sync.NewCond(&a.mu)
	return a
}

func (a *acks) see(t, version, nack string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if nack != "" {
		nack = " NACK: " + nack
	}
	if _, ok := a.seen[t+version]; !ok && version != "" {
		a.seen[t+version] = ack{time.Now(), nack}
		a.cond.Broadcast()
	}
}

func (a *acks) sentDelta(t, nonce, version string) {
	a.mu.Lock()
	a.nonce[nonce] = version
	a.mu.Unlock()
}

func (a *acks) seeDelta(t, nonce, nack string) {
	a.mu.Lock()
	v := a.nonce[nonce]
	a.mu.Unlock()
	a.see(t, v, nack)
}

func (a *acks) wait(t, version string) ack {
	a.mu.Lock()
	defer a.mu.Unlock()
	deadline := time.Now().Add(5 * time.Minute)
	go func() { time.Sleep(time.Until(deadline)); a.cond.Broadcast() }()
	for {
		if x, ok := a.seen[t+version]; ok {
			return x
		}
		if time.Now().After(deadline) {
			log.Fatalf("no ACK of %s version %s", t, version)
		}
		a.cond.Wait()
	}
}

// latencies collects request/response round trips.
type latencies struct {
	mu  sync.Mutex
	d   []time.Duration
	err atomic.Int64
}

func (l *latencies) add(d time.Duration) { l.mu.Lock(); l.d = append(l.d, d); l.mu.Unlock() }

// take summarizes and resets.
func (l *latencies) take() string {
	l.mu.Lock()
	d := l.d
	l.d = nil
	l.mu.Unlock()
	errs := l.err.Swap(0)
	if len(d) == 0 {
		return fmt.Sprintf("no requests, %d errors", errs)
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	q := func(p float64) time.Duration { return d[min(len(d)-1, int(p*float64(len(d))))].Round(time.Microsecond) }
	return fmt.Sprintf("%d requests, p50 %v, p99 %v, max %v, %d errors", len(d), q(0.5), q(0.99), d[len(d)-1].Round(time.Microsecond), errs)
}

// drive does 64-byte request/response round trips through addr.
func drive(addr string, l *latencies, stop <-chan struct{}) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		l.err.Add(1)
		return
	}
	defer c.Close()
	buf := make([]byte, 64)
	for {
		select {
		case <-stop:
			return
		default:
		}
		t := time.Now()
		if _, err := c.Write(buf); err != nil {
			l.err.Add(1)
			return
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			l.err.Add(1)
			return
		}
		l.add(time.Since(t))
	}
}

func serveEcho(ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() { defer c.Close(); io.Copy(c, c) }()
	}
}

func listen() net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	return ln
}

func freeAddr() string {
	ln := listen()
	defer ln.Close()
	return ln.Addr().String()
}

func port(hp string) string { _, p, _ := net.SplitHostPort(hp); return p }

func waitFor(what string, cond func() bool) {
	for deadline := time.Now().Add(60 * time.Second); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			log.Fatalf("timed out waiting for %s", what)
		}
	}
}

func get(url string) []byte {
	resp, err := http.Get(url)
	if err != nil {
		log.Printf("profile: %v", err)
		return nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return b
}

// rss reads a process's resident set size.
func rss(pid int) int64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n << 10
		}
	}
	return 0
}

// lineLog keeps sluice's log lines and passes warnings through.
type lineLog struct {
	mu    sync.Mutex
	lines []string
	part  string
}

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.part += string(p)
	for {
		i := strings.IndexByte(l.part, '\n')
		if i < 0 {
			break
		}
		line := l.part[:i]
		l.part = l.part[i+1:]
		l.lines = append(l.lines, line)
		if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") {
			fmt.Fprintln(os.Stderr, line)
		}
	}
	return len(p), nil
}

func (l *lineLog) matching(s string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range l.lines {
		if strings.Contains(line, s) {
			if i := strings.Index(line, "type="); i >= 0 {
				line = line[i:]
			}
			out = append(out, line)
		}
	}
	return out
}
