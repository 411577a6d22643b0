package httppool

import (
	"bytes"
	"strings"

	"github.com/sluice-proxy/sluice/internal/testenv"
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

// TestNginxUpstream: nginx 1.22 as an HTTP/1.1 upstream: keep-alive reuse
// across requests, bodies both ways, and concurrent requests on a few
// connections bounded by max_connections.
func TestNginxUpstream(t *testing.T) {
	ng := testenv.Nginx(t, `
        location /hello { return 200 "hello from nginx\n"; }
        location /big { return 200 "`+strings.Repeat("x", 3000)+`"; }
        location /missing { return 404; }`)
	e := newEnv(t, clusterYAML(`, circuit_breakers: {thresholds: [{max_connections: 4}]}`, ng.Addr()), Options{})
	p := e.pool("c")
	for i := 0; i < 10; i++ {
		if code, body := get(t, p, "/hello"); code != 200 || body != "hello from nginx\n" {
			t.Fatalf("got %d %q", code, body)
		}
	}
	if got := e.counter("cluster.c.upstream_cx_http1_total"); got != 1 {
		t.Errorf("upstream_cx_http1_total = %d after sequential requests, want 1", got)
	}
	var wg sync.WaitGroup
	for i := 0; i < 32; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code, body := get(t, p, "/big"); code != 200 || len(body) != 3000 {
				t.Errorf("got %d, %d bytes", code, len(body))
			}
		}()
	}
	wg.Wait()
	if code, _ := get(t, p, "/missing"); code != 404 {
		t.Errorf("got %d", code)
	}
	if got := e.counter("cluster.c.upstream_cx_http1_total"); got > 4 {
		t.Errorf("upstream_cx_http1_total = %d, above max_connections 4", got)
	}
	if got := e.counter("cluster.c.upstream_rq_404") + e.counter("cluster.c.upstream_rq_200"); got != 43 {
		t.Errorf("upstream_rq_200+404 = %d, want 43", got)
	}
}

// TestPreconnect: with the default per_upstream_preconnect_ratio (2) and a
// share of one stream, 4 outstanding streams keep 8 connections open.
func TestPreconnect(t *testing.T) {
	g := newGate()
	srv := serveGo(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { g.wait(r.Context()) }), true)
	e := newEnv(t, clusterYAML(h2cDefaults, srv.addr), Options{})
	p := e.pool("c")
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			get(t, p, "/")
		}()
	}
	e.eventually("4 streams at the server", func() bool { return g.n() == 4 })
	e.eventually("8 connections open", func() bool { return e.gauge("cluster.c.upstream_cx_active") == 8 })
	g.release()
	wg.Wait()
	if got := e.counter("cluster.c.upstream_cx_http2_total"); got != 8 {
		t.Errorf("upstream_cx_http2_total = %d, want 8", got)
	}
}

// TestLargeBodiesStream: 8 MiB up and back through one h2c stream while the
// server echoes as it reads, with windows of 64 KiB: bodies stream both
// ways under flow control rather than being held whole.
func TestLargeBodiesStream(t *testing.T) {
	srv := serveGo(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		io.Copy(w, r.Body)
	}), true)
	e := newEnv(t, clusterYAML(`, http2_protocol_options: {initial_stream_window_size: 65536, initial_connection_window_size: 65536}`+noPreconnect, srv.addr), Options{})
	const size = 8 << 20
	pr, pw := io.Pipe()
	go func() {
		chunk := bytes.Repeat([]byte("0123456789abcdef"), 4096)
		for sent := 0; sent < size; sent += len(chunk) {
			if _, err := pw.Write(chunk); err != nil {
				return
			}
		}
		pw.Close()
	}()
	req, _ := http.NewRequest("POST", "http://upstream/echo", pr)
	resp, err := e.pool("c").RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil || n != size {
		t.Fatalf("echoed %d bytes, %v; want %d", n, err, size)
	}
	if got := e.counter("cluster.c.upstream_cx_rx_bytes_total"); got < size {
		t.Errorf("upstream_cx_rx_bytes_total = %d", got)
	}
}
