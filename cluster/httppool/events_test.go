package httppool

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// listenReusePort listens on addr with SO_REUSEPORT, so that several
// servers share the port as the Python processes do.
func listenReusePort(t *testing.T, addr string) net.Listener {
	t.Helper()
	lc := net.ListenConfig{Control: func(network, address string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1) })
		if err != nil {
			return err
		}
		return serr
	}}
	ln, err := lc.Listen(context.Background(), "tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// TestGoAwayMovesWaitingStreams: with one connection of one stream per
// host, a request waits behind a slow one; the server's graceful shutdown
// (GOAWAY) moves the waiting request to a new connection, to the server
// that now owns the port, while the slow one finishes on the old.
func TestGoAwayMovesWaitingStreams(t *testing.T) {
	g := newGate()
	named := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/slow" {
				g.wait(r.Context())
			}
			io.WriteString(w, name)
		})
	}
	a := serveOn(t, listenReusePort(t, "127.0.0.1:0"), named("a"), true)
	e := newEnv(t, clusterYAML(`, typed_extension_protocol_options: {envoy.extensions.upstreams.http.v3.HttpProtocolOptions: {explicit_http_config: {http2_protocol_options: {max_concurrent_streams: 1}}}}, http_pool: {max_connections_per_host: 1}`, a.addr), Options{})
	p := e.pool("c")
	slow := make(chan string, 1)
	go func() { _, body := get(t, p, "/slow"); slow <- body }()
	e.eventually("slow request at a", func() bool { return g.n() == 1 })
	waiting := make(chan string, 1)
	go func() { _, body := get(t, p, "/who"); waiting <- body }()
	e.eventually("second request pending", func() bool { return e.gauge("cluster.c.upstream_rq_pending_active") == 1 })

	serveOn(t, listenReusePort(t, a.addr), named("b"), true)
	shut := make(chan error, 1)
	go func() { shut <- a.srv.Shutdown(context.Background()) }()
	if body := <-waiting; body != "b" {
		t.Errorf("waiting request served by %q, want b", body)
	}
	g.release()
	if body := <-slow; body != "a" {
		t.Errorf("slow request served by %q, want a", body)
	}
	if err := <-shut; err != nil {
		t.Error(err)
	}
	if got := e.counter("cluster.c.upstream_cx_http2_total"); got != 2 {
		t.Errorf("upstream_cx_http2_total = %d, want 2", got)
	}
}

// TestServerKilledMidStream: a server that dies after sending half a body
// fails that request as a reset, counted and reported to the host; the
// next request opens a new connection.
func TestServerKilledMidStream(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		t.Run(map[bool]string{false: "http1", true: "h2c"}[h2], func(t *testing.T) {
			var srv *goServer
			srv = serveGo(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/die" {
					w.Header().Set("Content-Length", "100")
					io.WriteString(w, "half")
					w.(http.Flusher).Flush()
					go srv.srv.Close() // every connection cut, the listener too
					<-r.Context().Done()
					return
				}
				io.WriteString(w, "ok")
			}), h2)
			extra := ""
			if h2 {
				extra = h2c
			}
			e := newEnv(t, clusterYAML(extra, srv.addr), Options{})
			p := e.pool("c")
			req, _ := http.NewRequest("GET", "http://upstream/die", nil)
			resp, err := p.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err == nil {
				t.Fatalf("read %q without error", b)
			}
			if got := e.counter("cluster.c.upstream_rq_rx_reset"); got != 1 {
				t.Errorf("upstream_rq_rx_reset = %d", got)
			}
			h := e.m.Get("c").Hosts()[0]
			if h.RqError.Load() != 1 || h.RqActive.Load() != 0 {
				t.Errorf("host rq_error %d rq_active %d", h.RqError.Load(), h.RqActive.Load())
			}
			e.eventually("the connection closed as remote", func() bool {
				return e.gauge("cluster.c.upstream_cx_active") == 0 && e.counter("cluster.c.upstream_cx_destroy_remote") == 1
			})
		})
	}
}

// TestHostRemovalClosesConnections: a reload that drops a host closes the
// pool's connections to it; the other host keeps serving.
func TestHostRemovalClosesConnections(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	a, b := serveGo(t, ok, true), serveGo(t, ok, true)
	e := newEnv(t, clusterYAML(h2c, a.addr, b.addr), Options{})
	p := e.pool("c")
	for i := 0; i < 4; i++ {
		get(t, p, "/")
	}
	if a.peers.conns() != 1 || b.peers.conns() != 1 {
		t.Fatalf("connections a %d b %d, want 1 each", a.peers.conns(), b.peers.conns())
	}
	e.apply(clusterYAML(h2c, b.addr))
	e.eventually("a's connection closed", func() bool {
		return e.gauge("cluster.c.upstream_cx_active") == 1 && len(e.m.Get("c").Hosts()) == 1
	})
	for i := 0; i < 4; i++ {
		get(t, p, "/")
	}
	if a.peers.conns() != 1 || b.peers.conns() != 1 {
		t.Errorf("after removal: connections a %d b %d", a.peers.conns(), b.peers.conns())
	}
}

// TestClusterRemovalClosesPool: a reload without the cluster closes its
// pool and connections.
func TestClusterRemovalClosesPool(t *testing.T) {
	srv := serveGo(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }), false)
	e := newEnv(t, clusterYAML("", srv.addr), Options{})
	p := e.pool("c")
	get(t, p, "/")
	e.apply(`clusters: [{name: other, endpoints: ["127.0.0.1:1"]}]`)
	e.eventually("the connection closed", func() bool { return e.gauge("cluster.c.upstream_cx_active") == 0 })
	req, _ := http.NewRequest("GET", "http://upstream/", nil)
	if _, err := p.RoundTrip(req); !errors.Is(err, ErrClosed) {
		t.Errorf("RoundTrip on a removed cluster: %v", err)
	}
	if _, err := e.pools.Get("c"); !errors.Is(err, ErrNoCluster) {
		t.Errorf("Get: %v", err)
	}
}

// TestTLS: over TLS, auto_config negotiates h2 by ALPN and explicit
// HTTP/1.1 stays on HTTP/1.1.
func TestTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.Proto) }))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	tlsCfg := srv.Client().Transport.(*http.Transport).TLSClientConfig.Clone()
	addr := strings.TrimPrefix(srv.URL, "https://")
	for _, tc := range []struct{ name, extra, want, stat string }{
		{"auto", `, typed_extension_protocol_options: {envoy.extensions.upstreams.http.v3.HttpProtocolOptions: {auto_config: {http_protocol_options: {}, http2_protocol_options: {}}}}` + noPreconnect, "HTTP/2.0", "upstream_cx_http2_total"},
		{"http1", ``, "HTTP/1.1", "upstream_cx_http1_total"},
		{"http2", h2c, "HTTP/2.0", "upstream_cx_http2_total"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, clusterYAML(tc.extra, addr), Options{TLS: tlsCfg})
			_, body := get(t, e.pool("c"), "/")
			if body != tc.want {
				t.Errorf("server saw %s, want %s", body, tc.want)
			}
			if got := e.counter("cluster.c." + tc.stat); got != 1 {
				t.Errorf("%s = %d", tc.stat, got)
			}
		})
	}
}
