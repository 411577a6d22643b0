package httpconn_test

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/internal/poll"
)

// shadowSink is a backend recording what the mirror sent; it answers only
// once release is closed.
type shadowSink struct {
	*backend
	mu      sync.Mutex
	hosts   []string
	bodies  [][]byte
	release chan struct{}
}

func startShadowSink(t *testing.T) *shadowSink {
	s := &shadowSink{release: make(chan struct{})}
	s.backend = startBackend(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.hosts = append(s.hosts, r.Host)
		s.bodies = append(s.bodies, b)
		s.mu.Unlock()
		<-s.release
		w.WriteHeader(http.StatusInternalServerError) // ignored by sluice
	})
	return s
}

func (s *shadowSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.hosts)
}

// TestRequestMirror: request_mirror_policies send a copy of each request,
// body included and host suffixed "-shadow", to a second real server; the
// client's requests complete while every shadow is still held by that
// server (nothing waits for it), and a shadow cluster that refuses
// connections never fails them.
func TestRequestMirror(t *testing.T) {
	main := startBackend(t, echoHandler)
	sink := startShadowSink(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	s := featSluice(t, `[{match: {prefix: "/"}, route: {cluster: c, request_mirror_policies: [{cluster: shadow}, {cluster: dead}]}}]`, "", "",
		plainCluster("c", "", main.addr())+"\n"+plainCluster("shadow", "", sink.addr())+"\n"+plainCluster("dead", "", dead))
	defer close(sink.release)
	body := bytes.Repeat([]byte("mirror me "), 5000)
	for i, rd := range []io.Reader{nil, bytes.NewReader(body), noLength{bytes.NewReader(body)}} {
		method := "GET"
		if rd != nil {
			method = "POST"
		}
		req, _ := http.NewRequest(method, "http://"+s.Addr("l")+"/p", rd)
		req.Host = "app.example:8080"
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(string(got), method+" /p") {
			t.Fatalf("request %d: %d %.40q", i, resp.StatusCode, got)
		}
		if !poll.Until(5*time.Second, func() bool { return sink.count() == i+1 }) {
			t.Fatalf("shadow %d not received", i)
		}
	}
	sink.mu.Lock()
	for i, h := range sink.hosts {
		if h != "app.example-shadow:8080" {
			t.Errorf("shadow %d host %q", i, h)
		}
	}
	if len(sink.bodies[0]) != 0 || !bytes.Equal(sink.bodies[1], body) || !bytes.Equal(sink.bodies[2], body) {
		t.Errorf("shadow bodies %d, %d, %d bytes; want 0 and %d twice", len(sink.bodies[0]), len(sink.bodies[1]), len(sink.bodies[2]), len(body))
	}
	sink.mu.Unlock()
	if main.hits.Load() != 3 {
		t.Fatalf("main cluster got %d requests", main.hits.Load())
	}
}

// TestRequestMirrorLimits: a runtime_fraction of 0 mirrors nothing; a body
// over per_request_buffer_limit_bytes is not mirrored (counted
// retry_or_shadow_abandoned) while the request itself goes through whole.
func TestRequestMirrorLimits(t *testing.T) {
	main := startBackend(t, echoHandler)
	sink := startShadowSink(t)
	close(sink.release)
	s := featSluice(t, `[{match: {prefix: "/none"}, route: {cluster: c, request_mirror_policies: [{cluster: shadow, runtime_fraction: {default_value: {numerator: 0}}}]}},
 {match: {prefix: "/"}, per_request_buffer_limit_bytes: 1024, route: {cluster: c, request_mirror_policies: [{cluster: shadow}]}}]`, "", "",
		plainCluster("c", "", main.addr())+"\n"+plainCluster("shadow", "", sink.addr()))
	for i := 0; i < 20; i++ {
		get(t, "http://"+s.Addr("l")+"/none")
	}
	body := bytes.Repeat([]byte("x"), 8192)
	for i, rd := range []io.Reader{bytes.NewReader(body), noLength{bytes.NewReader(body)}} {
		resp, err := http.Post("http://"+s.Addr("l")+"/big", "text/plain", rd)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || len(got) != len("POST /big ")+len(body) {
			t.Fatalf("request %d: %d, %d bytes back", i, resp.StatusCode, len(got))
		}
	}
	s.WaitCounter("http.ingress.retry_or_shadow_abandoned", 2, 5*time.Second)
	// A small body is mirrored: the shadow proves the sink was reachable.
	resp, err := http.Post("http://"+s.Addr("l")+"/small", "text/plain", strings.NewReader("s"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !poll.Until(5*time.Second, func() bool { return sink.count() == 1 }) {
		t.Fatal("the small body's shadow never came")
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if string(sink.bodies[0]) != "s" {
		t.Fatalf("shadows %q: only the small body's was expected", sink.bodies)
	}
}

// TestRequestMirrorClusterHeader: cluster_header picks the shadow cluster
// per request (none when the header is absent) and
// disable_shadow_host_suffix_append keeps the host.
func TestRequestMirrorClusterHeader(t *testing.T) {
	main := startBackend(t, echoHandler)
	sink := startShadowSink(t)
	close(sink.release)
	s := featSluice(t, `[{match: {prefix: "/"}, route: {cluster: c, request_mirror_policies: [{cluster_header: x-mirror-to, disable_shadow_host_suffix_append: true}]}}]`, "", "",
		plainCluster("c", "", main.addr())+"\n"+plainCluster("shadow", "", sink.addr()))
	get(t, "http://"+s.Addr("l")+"/a") // no header: no shadow
	req, _ := http.NewRequest("GET", "http://"+s.Addr("l")+"/b", nil)
	req.Header.Set("X-Mirror-To", "shadow")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !poll.Until(5*time.Second, func() bool { return sink.count() == 1 }) {
		t.Fatal("no shadow")
	}
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if sink.hosts[0] != s.Addr("l") || len(sink.hosts) != 1 {
		t.Fatalf("shadow hosts %q, want only %q unchanged", sink.hosts, s.Addr("l"))
	}
}

// TestRequestMirrorVirtualHost: a virtual host's request_mirror_policies
// apply to its routes without their own.
func TestRequestMirrorVirtualHost(t *testing.T) {
	main := startBackend(t, echoHandler)
	sink := startShadowSink(t)
	close(sink.release)
	s := featSluice(t, `[{match: {prefix: "/"}, route: {cluster: c}}]`, "request_mirror_policies: [{cluster: shadow}]", "",
		plainCluster("c", "", main.addr())+"\n"+plainCluster("shadow", "", sink.addr()))
	get(t, "http://"+s.Addr("l")+"/v")
	if !poll.Until(5*time.Second, func() bool { return sink.count() == 1 }) {
		t.Fatal("no shadow from the virtual host's policy")
	}
}
