package httpconn_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

func TestProxyGetKeepAlive(t *testing.T) {
	be := startBackend(t, echoHandler)
	s := startHCM(t, be.addr(), "", "")
	url := "http://" + s.Addr("l")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	defer client.CloseIdleConnections()
	for i := 0; i < 5; i++ {
		resp, err := client.Get(url + "/a?b=c")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != "GET /a?b=c " {
			t.Fatalf("got %d %q", resp.StatusCode, body)
		}
		if resp.Header.Get("X-Seen-Host") != s.Addr("l") {
			t.Fatalf("host not kept: %q", resp.Header.Get("X-Seen-Host"))
		}
		if len(resp.Header.Get("X-Seen-Request-Id")) != 36 {
			t.Fatalf("no x-request-id generated: %q", resp.Header.Get("X-Seen-Request-Id"))
		}
		if resp.Header.Get("Server") != "envoy" || resp.Header.Get("X-Envoy-Upstream-Service-Time") == "" {
			t.Fatalf("envoy headers missing: %v", resp.Header)
		}
	}
	s.WaitCounter("http.ingress.downstream_rq_2xx", 5, 5*time.Second)
	if got := s.Counter("http.ingress.downstream_cx_total"); got != 1 {
		t.Fatalf("downstream_cx_total %d, want 1 (keep-alive)", got)
	}
	for name, want := range map[string]uint64{
		"http.ingress.downstream_rq_total": 5, "http.ingress.downstream_rq_http1_total": 5,
		"cluster.c.upstream_rq_total": 5, "cluster.c.upstream_rq_200": 5, "cluster.c.upstream_rq_2xx": 5,
		"cluster.c.upstream_cx_total": 1, "cluster.c.upstream_cx_http1_total": 1,
	} {
		if got := s.Counter(name); got != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}
}

// TestLargeBodiesStreamBothWays sends a 16 MiB chunked upload and gets it
// back chunked, checking both checksums.
func TestLargeBodiesStreamBothWays(t *testing.T) {
	be := startBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Sum")
		h := sha256.New()
		io.Copy(io.MultiWriter(w, h), r.Body)
		w.Header().Set("X-Sum", fmt.Sprintf("%x", h.Sum(nil)))
	})
	s := startHCM(t, be.addr(), "", "")
	data := make([]byte, 16<<20)
	for i := range data {
		data[i] = byte(rand.Uint32())
	}
	req, _ := http.NewRequest("POST", "http://"+s.Addr("l")+"/up", io.NopCloser(bytes.NewReader(data)))
	req.ContentLength = -1 // chunked
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(got) != sha256.Sum256(data) {
		t.Fatalf("body differs (%d bytes back)", len(got))
	}
	if len(resp.TransferEncoding) == 0 || resp.TransferEncoding[0] != "chunked" {
		t.Fatalf("response not chunked: %v", resp.TransferEncoding)
	}
	want := sha256.Sum256(data)
	if resp.Trailer.Get("X-Sum") != fmt.Sprintf("%x", want) {
		t.Fatalf("trailer %q lost", resp.Trailer.Get("X-Sum"))
	}
}

func TestPipelining(t *testing.T) {
	be := startBackend(t, echoHandler)
	s := startHCM(t, be.addr(), "", "")
	out := rawExchange(t, s.Addr("l"),
		"GET /1 HTTP/1.1\r\nHost: x\r\n\r\n"+
			"POST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"+
			"POST /3 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nde\r\n0\r\n\r\n"+
			"GET /4 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	i1, i2, i3, i4 := strings.Index(out, "GET /1 "), strings.Index(out, "POST /2 abc"), strings.Index(out, "POST /3 de"), strings.Index(out, "GET /4 ")
	if i1 < 0 || i2 < i1 || i3 < i2 || i4 < i3 {
		t.Fatalf("responses missing or out of order:\n%s", out)
	}
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestNoRouteDirectResponseRedirect(t *testing.T) {
	be := startBackend(t, echoHandler)
	routes := `[{match: {path: "/health"}, direct_response: {status: 200, body: {inline_string: "ok"}}},
 {match: {prefix: "/old"}, redirect: {path_redirect: "/new", response_code: FOUND}},
 {match: {prefix: "/api"}, route: {cluster: c}}]`
	s := startHCM(t, be.addr(), "", routes)
	base := "http://" + s.Addr("l")
	if resp, body := get(t, base+"/health"); resp.StatusCode != 200 || body != "ok" {
		t.Fatalf("direct_response: %d %q", resp.StatusCode, body)
	}
	if resp, _ := get(t, base+"/old/x"); resp.StatusCode != 302 || resp.Header.Get("Location") != "http://"+s.Addr("l")+"/new" {
		t.Fatalf("redirect: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := get(t, base+"/nothing"); resp.StatusCode != 404 {
		t.Fatalf("no route: %d", resp.StatusCode)
	}
	if resp, body := get(t, base+"/api/v1"); resp.StatusCode != 200 || body != "GET /api/v1 " {
		t.Fatalf("routed: %d %q", resp.StatusCode, body)
	}
	for name, want := range map[string]uint64{"http.ingress.no_route": 1, "http.ingress.rq_direct_response": 1,
		"http.ingress.rq_redirect": 1, "http.ingress.downstream_rq_4xx": 1, "http.ingress.downstream_rq_3xx": 1} {
		s.WaitCounter(name, want, 5*time.Second)
	}
	if be.hits.Load() != 1 {
		t.Fatalf("backend saw %d requests, want 1", be.hits.Load())
	}
}

func TestUpstreamFailures(t *testing.T) {
	t.Run("connect failure 503", func(t *testing.T) {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		dead := ln.Addr().String()
		ln.Close()
		s := startHCM(t, dead, "", "")
		resp, body := get(t, "http://"+s.Addr("l")+"/")
		if resp.StatusCode != 503 || !strings.Contains(body, "connection failure") {
			t.Fatalf("got %d %q", resp.StatusCode, body)
		}
		s.WaitCounter("http.ingress.downstream_rq_5xx", 1, 5*time.Second)
	})
	t.Run("no healthy host 503", func(t *testing.T) {
		// The only host fails its health check; no panic routing.
		s := sluicetest.Start(t, hcmConfig("127.0.0.1:1", "", "")+
			"    healthy_panic_threshold: 0\n    health_checks: [{timeout: 1s, interval: 1h, tcp_health_check: {}}]\n")
		resp, body := get(t, "http://"+s.Addr("l")+"/")
		if resp.StatusCode != 503 || body != "no healthy upstream" {
			t.Fatalf("got %d %q", resp.StatusCode, body)
		}
	})
	t.Run("route timeout 504", func(t *testing.T) {
		release := make(chan struct{})
		be := startBackend(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
		defer close(release)
		s := startHCM(t, be.addr(), "", `[{match: {prefix: "/"}, route: {cluster: c, timeout: 200ms}}]`)
		resp, body := get(t, "http://"+s.Addr("l")+"/slow")
		if resp.StatusCode != 504 || body != "upstream request timeout" {
			t.Fatalf("got %d %q", resp.StatusCode, body)
		}
		s.WaitCounter("cluster.c.upstream_rq_timeout", 1, 5*time.Second)
	})
}

// TestSharedRouterActions checks that the route table's rewrites and header
// mutations apply (router.Compile on route_config).
func TestSharedRouterActions(t *testing.T) {
	var seen http.Header
	be := startBackend(t, func(w http.ResponseWriter, r *http.Request) {
		seen = r.Header.Clone()
		echoHandler(w, r)
	})
	s := startHCM(t, be.addr(), "", `[{match: {prefix: "/v1/"}, route: {cluster: c, prefix_rewrite: "/api/"},
   request_headers_to_add: [{header: {key: x-added, value: yes}}],
   response_headers_to_add: [{header: {key: x-route, value: v1}}]}]`)
	resp, body := get(t, "http://"+s.Addr("l")+"/v1/items?q=1")
	if resp.StatusCode != 200 || body != "GET /api/items?q=1 " || resp.Header.Get("X-Route") != "v1" {
		t.Fatalf("got %d %q %v", resp.StatusCode, body, resp.Header)
	}
	if seen.Get("X-Added") != "yes" || seen.Get("X-Envoy-Expected-Rq-Timeout-Ms") != "15000" {
		t.Fatalf("upstream saw %v", seen)
	}
}

// TestNginxUpstream proxies HTTP/1.1 and HTTP/2 clients to nginx.
func TestNginxUpstream(t *testing.T) {
	ng := testenv.Nginx(t, `location / { add_header X-Nginx yes; return 200 "from nginx $request_uri"; }`)
	s := startHCM(t, ng.Addr(), "", "")
	resp, body := get(t, "http://"+s.Addr("l")+"/path?x=1")
	if resp.StatusCode != 200 || body != "from nginx /path?x=1" || resp.Header.Get("X-Nginx") != "yes" {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
	out, err := exec.Command(needTool(t, "curl"), "-sS", "--http2-prior-knowledge", "http://"+s.Addr("l")+"/h2").CombinedOutput()
	if err != nil || string(out) != "from nginx /h2" {
		t.Fatalf("curl: %v %q", err, out)
	}
}

// TestUpstreamBodyBreaksOff: an upstream that dies mid-body must not look
// like a complete response to the client (the chunked body is not ended).
func TestUpstreamBodyBreaksOff(t *testing.T) {
	be := startBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write(bytes.Repeat([]byte("x"), 1000))
		w.(http.Flusher).Flush()
		c, _, _ := http.NewResponseController(w).Hijack()
		c.Close()
	})
	s := startHCM(t, be.addr(), "", "")
	resp, err := http.Get("http://" + s.Addr("l") + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.ReadAll(resp.Body); err == nil {
		t.Fatal("a broken upstream body reached the client as complete")
	}
}
