package httppool

import (
	"io"
	"net/http"
	"sync"
	"testing"
)

// TestHTTP1KeepAlive: sequential requests reuse one HTTP/1.1 connection,
// and the pool counts Envoy's request stats.
func TestHTTP1KeepAlive(t *testing.T) {
	srv := serveGo(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fail" {
			w.WriteHeader(503)
		}
		io.WriteString(w, "hello "+r.Proto)
	}), false)
	e := newEnv(t, clusterYAML("", srv.addr), Options{})
	p := e.pool("c")
	for i := 0; i < 20; i++ {
		if code, body := get(t, p, "/"); code != 200 || body != "hello HTTP/1.1" {
			t.Fatalf("got %d %q", code, body)
		}
	}
	if code, _ := get(t, p, "/fail"); code != 503 {
		t.Fatalf("got %d", code)
	}
	if n := srv.peers.conns(); n != 1 {
		t.Errorf("server saw %d connections, want 1", n)
	}
	for name, want := range map[string]uint64{
		"cluster.c.upstream_cx_http1_total": 1, "cluster.c.upstream_rq_total": 21, "cluster.c.upstream_rq_200": 20,
		"cluster.c.upstream_rq_2xx": 20, "cluster.c.upstream_rq_503": 1, "cluster.c.upstream_rq_5xx": 1,
		"cluster.c.upstream_rq_completed": 21, "cluster.c.upstream_cx_total": 1,
	} {
		if got := e.counter(name); got != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}
	if g := e.gauge("cluster.c.upstream_rq_active"); g != 0 {
		t.Errorf("upstream_rq_active = %d", g)
	}
}

// TestH2CSpreads: concurrent streams to an h2c server open one connection
// each (target_streams_per_connection 1) up to max_connections_per_host,
// and beyond it share the least-loaded ones.
func TestH2CSpreads(t *testing.T) {
	g := newGate()
	srv := serveGo(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.wait(r.Context())
		io.WriteString(w, r.Proto)
	}), true)
	e := newEnv(t, clusterYAML(h2c+", http_pool: {max_connections_per_host: 8}", srv.addr), Options{})
	p := e.pool("c")
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("GET", "http://upstream/", nil)
			resp, err := p.RoundTrip(req)
			if err != nil {
				errs <- err
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) != "HTTP/2.0" {
				t.Errorf("body %q", b)
			}
		}()
	}
	e.eventually("16 streams at the server", func() bool { return g.n() == n })
	g.release()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if c := srv.peers.conns(); c != 8 {
		t.Errorf("server saw %d connections, want 8", c)
	}
	if got := e.counter("cluster.c.upstream_cx_http2_total"); got != 8 {
		t.Errorf("upstream_cx_http2_total = %d", got)
	}
}
