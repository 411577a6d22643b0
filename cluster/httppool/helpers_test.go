package httppool

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sluice-proxy/sluice/cluster"
	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/internal/poll"
	"github.com/sluice-proxy/sluice/stats"
)

// TestMain fails the package's tests if a goroutine outlives them.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// env is a cluster manager, its stats and pools for one test.
type env struct {
	t     testing.TB
	st    *stats.Store
	m     *cluster.Manager
	pools *Pools
}

// newEnv applies the clusters of src (a sluice YAML "clusters:" list) and
// closes everything at test end.
func newEnv(t testing.TB, src string, opts Options) *env {
	t.Helper()
	e := &env{t: t, st: stats.New()}
	e.m = cluster.NewManager(e.st.Root(), slog.New(slog.DiscardHandler))
	e.apply(src)
	e.pools = NewPools(e.m, opts)
	t.Cleanup(func() {
		e.pools.Close()
		e.m.Close()
	})
	return e
}

// apply loads src and applies its clusters (a reload).
func (e *env) apply(src string) {
	e.t.Helper()
	cfg, err := config.Parse("test.yaml", []byte(src))
	if err != nil {
		e.t.Fatalf("config: %v", err)
	}
	e.m.Apply(cfg.Clusters)
}

func (e *env) pool(name string) *Pool {
	e.t.Helper()
	p, err := e.pools.Get(name)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (e *env) counter(name string) uint64 { v, _ := e.st.CounterValue(name); return v }
func (e *env) gauge(name string) int64    { v, _ := e.st.GaugeValue(name); return v }

// eventually polls cond for up to 10 s.
func (e *env) eventually(what string, cond func() bool) {
	e.t.Helper()
	poll.Eventually(e.t, 10*time.Second, cond, "waiting for %s", what)
}

// get sends a GET through p and returns the status and body.
func get(t *testing.T, p *Pool, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://upstream"+path, nil)
	resp, err := p.RoundTrip(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("GET %s body: %v", path, err)
	}
	return resp.StatusCode, string(b)
}

// peers records the remote addresses a server saw, one per connection.
type peers struct {
	mu   sync.Mutex
	seen map[string]int
}

func (p *peers) add(addr string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.seen == nil {
		p.seen = map[string]int{}
	}
	p.seen[addr]++
}

func (p *peers) conns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.seen)
}

// goServer is a Go net/http server on a loopback port, stopped at test end.
type goServer struct {
	srv   *http.Server
	ln    net.Listener
	addr  string
	peers peers
	done  chan struct{}
}

// serveGo starts h on 127.0.0.1 with the given protocols (h2c when
// unencryptedH2), counting connections by remote address.
func serveGo(t testing.TB, h http.Handler, unencryptedH2 bool) *goServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return serveOn(t, ln, h, unencryptedH2)
}

func serveOn(t testing.TB, ln net.Listener, h http.Handler, unencryptedH2 bool) *goServer {
	s := &goServer{ln: ln, addr: ln.Addr().String(), done: make(chan struct{})}
	s.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.peers.add(r.RemoteAddr)
		h.ServeHTTP(w, r)
	}), Protocols: new(http.Protocols)}
	s.srv.Protocols.SetHTTP1(true)
	s.srv.Protocols.SetUnencryptedHTTP2(unencryptedH2)
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	}()
	t.Cleanup(s.close)
	return s
}

func (s *goServer) close() {
	s.srv.Close()
	<-s.done
}

// clusterYAML is one static cluster named c over addrs, with extra fields.
func clusterYAML(extra string, addrs ...string) string {
	return fmt.Sprintf("clusters: [{name: c, connect_timeout: 1s, endpoints: [%s]%s}]", strings.Join(addrs, ", "), extra)
}

// h2cDefaults is the extra YAML that makes the cluster speak HTTP/2, with
// the pool's defaults.
const h2cDefaults = `, typed_extension_protocol_options: {envoy.extensions.upstreams.http.v3.HttpProtocolOptions: {explicit_http_config: {http2_protocol_options: {}}}}`

// noPreconnect turns spare connections off, for tests that count them.
const noPreconnect = `, preconnect_policy: {per_upstream_preconnect_ratio: 1}`

// h2c is HTTP/2 without spare connections.
const h2c = h2cDefaults + noPreconnect

// gate blocks handlers until opened, counting those waiting.
type gate struct {
	mu      sync.Mutex
	waiting int
	open    chan struct{}
}

func newGate() *gate { return &gate{open: make(chan struct{})} }

func (g *gate) wait(ctx context.Context) {
	g.mu.Lock()
	g.waiting++
	g.mu.Unlock()
	select {
	case <-g.open:
	case <-ctx.Done():
	}
}

func (g *gate) n() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.waiting
}

func (g *gate) release() { close(g.open) }
