package httppool

import (
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/cluster"
)

// TestMaxRequestsPerConnection: a connection retires after
// max_requests_per_connection requests.
func TestMaxRequestsPerConnection(t *testing.T) {
	srv := serveGo(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }), false)
	e := newEnv(t, clusterYAML(`, typed_extension_protocol_options: {envoy.extensions.upstreams.http.v3.HttpProtocolOptions: {common_http_protocol_options: {max_requests_per_connection: 5}}}`, srv.addr), Options{})
	p := e.pool("c")
	for i := 0; i < 20; i++ {
		get(t, p, "/")
	}
	if n := srv.peers.conns(); n != 4 {
		t.Errorf("server saw %d connections, want 4", n)
	}
	if got := e.counter("cluster.c.upstream_cx_max_requests"); got != 4 {
		t.Errorf("upstream_cx_max_requests = %d, want 4", got)
	}
	e.eventually("retired connections closed", func() bool { return e.gauge("cluster.c.upstream_cx_active") == 0 })
}

// TestIdleTimeout: an idle HTTP/1.1 connection closes after idle_timeout.
func TestIdleTimeout(t *testing.T) {
	srv := serveGo(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }), false)
	e := newEnv(t, clusterYAML(`, typed_extension_protocol_options: {envoy.extensions.upstreams.http.v3.HttpProtocolOptions: {common_http_protocol_options: {idle_timeout: 0.1s}}}`, srv.addr), Options{})
	get(t, e.pool("c"), "/")
	e.eventually("idle connection closed", func() bool {
		return e.counter("cluster.c.upstream_cx_idle_timeout") == 1 && e.gauge("cluster.c.upstream_cx_active") == 0
	})
	if got := e.counter("cluster.c.upstream_cx_destroy_local"); got != 1 {
		t.Errorf("upstream_cx_destroy_local = %d", got)
	}
}

// TestBreakerOverflow: with max_connections 1 and max_pending_requests 1, a
// second request waits and a third overflows (upstream_rq_pending_overflow);
// the waiting one is served when the first ends.
func TestBreakerOverflow(t *testing.T) {
	g := newGate()
	srv := serveGo(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.wait(r.Context())
		io.WriteString(w, "ok")
	}), false)
	e := newEnv(t, clusterYAML(`, circuit_breakers: {thresholds: [{max_connections: 1, max_pending_requests: 1}]}`, srv.addr), Options{})
	p := e.pool("c")
	done := make(chan error, 2)
	send := func() {
		req, _ := http.NewRequest("GET", "http://upstream/", nil)
		resp, err := p.RoundTrip(req)
		if err == nil {
			_, err = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		done <- err
	}
	go send()
	e.eventually("first request at the server", func() bool { return g.n() == 1 })
	go send()
	e.eventually("second request pending", func() bool { return e.gauge("cluster.c.upstream_rq_pending_active") == 1 })
	req, _ := http.NewRequest("GET", "http://upstream/", nil)
	_, err := p.RoundTrip(req)
	if !errors.Is(err, cluster.ErrOverflow) {
		t.Fatalf("third request: %v, want overflow", err)
	}
	if got := e.counter("cluster.c.upstream_rq_pending_overflow"); got != 1 {
		t.Errorf("upstream_rq_pending_overflow = %d", got)
	}
	g.release()
	for i := 0; i < 2; i++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	if n := srv.peers.conns(); n != 1 {
		t.Errorf("server saw %d connections, want 1", n)
	}
	// Both waited: the first for its connection to open, as Envoy counts.
	if got := e.counter("cluster.c.upstream_rq_pending_total"); got != 2 {
		t.Errorf("upstream_rq_pending_total = %d", got)
	}
}

// TestMaxRequestsBreaker: max_requests bounds requests in flight.
func TestMaxRequestsBreaker(t *testing.T) {
	g := newGate()
	srv := serveGo(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { g.wait(r.Context()) }), true)
	e := newEnv(t, clusterYAML(h2c+`, circuit_breakers: {thresholds: [{max_requests: 2}]}`, srv.addr), Options{})
	p := e.pool("c")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{}, 2)
	for i := 0; i < 2; i++ {
		go func() {
			req, _ := http.NewRequestWithContext(ctx, "GET", "http://upstream/", nil)
			if resp, err := p.RoundTrip(req); err == nil {
				io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			done <- struct{}{}
		}()
	}
	e.eventually("two requests at the server", func() bool { return g.n() == 2 })
	req, _ := http.NewRequest("GET", "http://upstream/", nil)
	if _, err := p.RoundTrip(req); !errors.Is(err, cluster.ErrOverflow) {
		t.Errorf("third request: %v, want overflow", err)
	}
	g.release()
	<-done
	<-done
}

// TestConnectFailure: a refused connect fails the request and is counted
// by the cluster's connect path.
func TestConnectFailure(t *testing.T) {
	e := newEnv(t, clusterYAML("", "127.0.0.1:1"), Options{})
	req, _ := http.NewRequest("GET", "http://upstream/", nil)
	_, err := e.pool("c").RoundTrip(req)
	if err == nil {
		t.Fatal("no error from a closed port")
	}
	if got := e.counter("cluster.c.upstream_cx_connect_fail"); got != 1 {
		t.Errorf("upstream_cx_connect_fail = %d (%v)", got, err)
	}
}

// TestReloadChangesProtocol: a reload from HTTP/1.1 to HTTP/2 sends new
// requests over HTTP/2 and closes the HTTP/1.1 connections.
func TestReloadChangesProtocol(t *testing.T) {
	srv := serveGo(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.Proto) }), true)
	e := newEnv(t, clusterYAML("", srv.addr), Options{})
	p := e.pool("c")
	if _, body := get(t, p, "/"); body != "HTTP/1.1" {
		t.Fatalf("before: %s", body)
	}
	e.apply(clusterYAML(h2c, srv.addr))
	if _, body := get(t, p, "/"); body != "HTTP/2.0" {
		t.Fatalf("after: %s", body)
	}
	e.eventually("the HTTP/1.1 connection closed", func() bool { return e.gauge("cluster.c.upstream_cx_active") == 1 })
}

// TestRequestTimeout: a request whose deadline passes before the answer
// (the server holds it until the client gives up) fails with
// context.DeadlineExceeded, counted as upstream_rq_timeout and as a
// local-origin failure of the host.
func TestRequestTimeout(t *testing.T) {
	g := newGate()
	srv := serveGo(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { g.wait(r.Context()) }), true)
	e := newEnv(t, clusterYAML(h2c, srv.addr), Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://upstream/", nil)
	if _, err := e.pool("c").RoundTrip(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	if got := e.counter("cluster.c.upstream_rq_timeout"); got != 1 {
		t.Errorf("upstream_rq_timeout = %d", got)
	}
	if h := e.m.Get("c").Hosts()[0]; h.RqError.Load() != 1 || h.RqActive.Load() != 0 {
		t.Errorf("host rq_error %d rq_active %d", h.RqError.Load(), h.RqActive.Load())
	}
}
