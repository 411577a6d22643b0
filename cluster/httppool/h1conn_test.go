package httppool

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// TestH1ConnBodies sends request bodies of each framing through the pool's
// own HTTP/1.1 connection to a Go server that echoes them: a small
// Content-Length body (written before the response is read), 1 MiB
// (written by its own goroutine while the server echoes as it reads) and a
// chunked body with a trailer, which the server returns as a response
// trailer. All on one connection.
func TestH1ConnBodies(t *testing.T) {
	srv := serveGo(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.NewResponseController(w).EnableFullDuplex()
		w.Header().Set("Trailer", "X-Got")
		io.Copy(w, r.Body)
		w.Header().Set("X-Got", r.Trailer.Get("X-Sum")+"|"+strings.Join(r.TransferEncoding, ","))
	}), false)
	e := newEnv(t, clusterYAML("", srv.addr), Options{})
	p := e.pool("c")
	big := bytes.Repeat([]byte("0123456789abcdef"), 64<<10)
	for _, tc := range []struct {
		name    string
		body    io.Reader
		length  int64
		want    []byte
		trailer string
	}{
		{"small", strings.NewReader("hello"), 5, []byte("hello"), "|"},
		{"large", bytes.NewReader(big), int64(len(big)), big, "|"},
		{"chunked", io.MultiReader(strings.NewReader("part1,"), strings.NewReader("part2")), -1, []byte("part1,part2"), "42|chunked"},
	} {
		req, _ := http.NewRequest("POST", "http://upstream/echo", tc.body)
		req.ContentLength = tc.length
		if tc.length < 0 {
			req.Trailer = http.Header{"X-Sum": {"42"}}
		}
		resp, err := p.RoundTrip(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || !bytes.Equal(got, tc.want) {
			t.Fatalf("%s: echoed %d bytes (%v), want %d", tc.name, len(got), err, len(tc.want))
		}
		if tr := resp.Trailer.Get("X-Got"); tr != tc.trailer {
			t.Errorf("%s: trailer %q, want %q", tc.name, tr, tc.trailer)
		}
	}
	if got := e.counter("cluster.c.upstream_cx_http1_total"); got != 1 {
		t.Errorf("upstream_cx_http1_total = %d, want 1 (keep-alive)", got)
	}
}

// TestH1ConnServerClosed: the server answers and closes the connection
// without saying so (no Connection: close). The next request, a POST with a
// body that could not be sent again, must not go out on the dead
// connection: the pool tests an idle connection before such a request.
// A response with Connection: close is not reused either.
func TestH1ConnServerClosed(t *testing.T) {
	closed := make(chan struct{}, 8)
	srv := serveGo(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		switch r.URL.Path {
		case "/silent-close":
			c, bw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			bw.WriteString("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
			bw.Flush()
			c.Close()
			closed <- struct{}{}
		case "/close":
			w.Header().Set("Connection", "close")
			io.WriteString(w, "bye")
		default:
			io.WriteString(w, "fine")
		}
	}), false)
	e := newEnv(t, clusterYAML("", srv.addr), Options{})
	p := e.pool("c")
	post := func(path string) string {
		req, _ := http.NewRequest("POST", "http://upstream"+path, strings.NewReader("payload"))
		resp, err := p.RoundTrip(req)
		if err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("POST %s body: %v", path, err)
		}
		return string(b)
	}
	for i := 0; i < 3; i++ {
		if got := post("/silent-close"); got != "ok" {
			t.Fatalf("got %q", got)
		}
		<-closed
		// The FIN is on its way over loopback; the pool must find it
		// itself, this only waits until it has arrived.
		e.eventually("the server's FIN", func() bool { return !idleAlive(p) })
		if got := post("/after"); got != "fine" {
			t.Fatalf("after a silent close: %q", got)
		}
	}
	if got := post("/close"); got != "bye" {
		t.Fatalf("got %q", got)
	}
	if got := post("/after"); got != "fine" {
		t.Fatalf("after Connection: close: %q", got)
	}
	if got := e.counter("cluster.c.upstream_cx_http1_total"); got != 5 {
		t.Errorf("upstream_cx_http1_total = %d, want 5 (one per close, plus the first)", got)
	}
	if got := e.counter("cluster.c.upstream_rq_rx_reset"); got != 0 {
		t.Errorf("upstream_rq_rx_reset = %d, want 0", got)
	}
}

// TestH1ConnInformational: 103 Early Hints from a Go server reach the
// WithInformational hook before the final response.
func TestH1ConnInformational(t *testing.T) {
	srv := serveGo(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Del("Link")
		io.WriteString(w, "page")
	}), false)
	e := newEnv(t, clusterYAML("", srv.addr), Options{})
	var mu sync.Mutex
	var seen []string
	ctx := WithInformational(context.Background(), func(code int, h http.Header) {
		mu.Lock()
		seen = append(seen, h.Get("Link"))
		mu.Unlock()
	})
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://upstream/", nil)
	resp, err := e.pool("c").RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "page" || len(seen) != 1 || seen[0] != "</style.css>; rel=preload" {
		t.Fatalf("body %q, 1xx seen %q", b, seen)
	}
}

// TestH1ConnMalformedResponse: a response with both Content-Length and
// Transfer-Encoding fails the request (no guess at its framing), counts
// upstream_rq_rx_reset and closes the connection; the next request gets a
// new one.
func TestH1ConnMalformedResponse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for n := 0; ; n++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			br := bufio.NewReader(c)
			for {
				req, err := http.ReadRequest(br)
				if err != nil {
					break
				}
				io.Copy(io.Discard, req.Body)
				if req.URL.Path == "/smuggle" {
					io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
				} else {
					io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
				}
			}
			c.Close()
		}
	}()
	e := newEnv(t, clusterYAML("", ln.Addr().String()), Options{})
	p := e.pool("c")
	req, _ := http.NewRequest("GET", "http://upstream/smuggle", nil)
	if resp, err := p.RoundTrip(req); err == nil {
		resp.Body.Close()
		t.Fatalf("accepted a response with Content-Length and Transfer-Encoding: %d", resp.StatusCode)
	}
	if code, body := get(t, p, "/ok"); code != 200 || body != "ok" {
		t.Fatalf("next request: %d %q", code, body)
	}
	if got := e.counter("cluster.c.upstream_rq_rx_reset"); got != 1 {
		t.Errorf("upstream_rq_rx_reset = %d, want 1", got)
	}
	if got := e.counter("cluster.c.upstream_cx_http1_total"); got != 2 {
		t.Errorf("upstream_cx_http1_total = %d, want 2", got)
	}
}

// idleAlive reports whether every idle HTTP/1.1 connection of p passes
// the pool's liveness test.
func idleAlive(p *Pool) bool {
	p.mu.Lock()
	hps := make([]*hostPool, 0, len(p.hosts))
	for _, hp := range p.hosts {
		hps = append(hps, hp)
	}
	p.mu.Unlock()
	for _, hp := range hps {
		hp.mu.Lock()
		for _, c := range hp.conns {
			if h1, ok := c.cc.(*h1Conn); ok && c.active == 0 && !h1.alive() {
				hp.mu.Unlock()
				return false
			}
		}
		hp.mu.Unlock()
	}
	return true
}
