package httpconn_test

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// h2cClient is Go's HTTP/2 client speaking h2c with prior knowledge.
func h2cClient(t *testing.T) *http.Client {
	tr := &http2.Transport{AllowHTTP: true}
	tr.DialTLS = func(network, addr string, _ *tls.Config) (net.Conn, error) { return net.Dial(network, addr) }
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// stallBackend answers /stall never (until the request is cancelled) and
// /half with headers and one chunk, then nothing.
func stallBackend(t *testing.T) *backend {
	return startBackend(t, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if r.URL.Path == "/half" {
			w.Write([]byte("first"))
			w.(http.Flusher).Flush()
		}
		<-r.Context().Done()
	})
}

// TestStreamIdleTimeoutHTTP2: stream_idle_timeout ends an HTTP/2 stream
// whose upstream does not answer with 408 "stream timeout" (SI), and one
// whose response stalled midway with a reset; both count
// downstream_rq_idle_timeout. A route's idle_timeout replaces it, for
// HTTP/1.1 too.
func TestStreamIdleTimeoutHTTP2(t *testing.T) {
	be := stallBackend(t)
	logPath := t.TempDir() + "/access.log"
	s := featSluice(t, `[{match: {prefix: "/route"}, route: {cluster: c, prefix_rewrite: "/stall", idle_timeout: 0.3s, timeout: 0s}},
 {match: {prefix: "/"}, route: {cluster: c, timeout: 0s}}]`, "",
		"stream_idle_timeout: 0.3s\naccess_log: [{path: "+logPath+", format: \"%RESPONSE_CODE% %RESPONSE_FLAGS%\\n\"}]",
		plainCluster("c", "", be.addr()))
	c := h2cClient(t)
	resp, err := c.Get("http://" + s.Addr("l") + "/stall")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 408 || string(body) != "stream timeout" {
		t.Fatalf("stalled upstream: %d %q, want 408 stream timeout", resp.StatusCode, body)
	}
	resp, err = c.Get("http://" + s.Addr("l") + "/half")
	if err != nil {
		t.Fatal(err)
	}
	body, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil || string(body) != "first" {
		t.Fatalf("stalled response: %q, err %v; want the first chunk and a reset", body, err)
	}
	s.WaitCounter("http.ingress.downstream_rq_idle_timeout", 2, 5*time.Second)
	// HTTP/1.1 without a route idle_timeout: stream_idle_timeout bounds only
	// the request's reads there; the route's idle_timeout bounds the wait.
	resp, err = http.Get("http://" + s.Addr("l") + "/route")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 408 {
		t.Fatalf("route idle_timeout over HTTP/1.1: %d", resp.StatusCode)
	}
	s.WaitCounter("http.ingress.downstream_rq_idle_timeout", 3, 5*time.Second)
	log, _ := os.ReadFile(logPath)
	if !strings.Contains(string(log), "408 SI") {
		t.Fatalf("access log %q lacks 408 SI", log)
	}
}

// TestMaxStreamDurationRoute: max_stream_duration (the connection
// manager's, and a route's, which replaces it) answers a request that
// arrived whole 504 "downstream duration timeout" (Envoy's
// onStreamMaxDurationReached) and counts downstream_rq_max_duration_reached.
func TestMaxStreamDurationRoute(t *testing.T) {
	be := stallBackend(t)
	s := featSluice(t, `[{match: {prefix: "/route"}, route: {cluster: c, prefix_rewrite: "/stall", timeout: 0s, max_stream_duration: {max_stream_duration: 0.3s}}},
 {match: {prefix: "/"}, route: {cluster: c, timeout: 0s}}]`, "",
		"common_http_protocol_options: {max_stream_duration: 0.4s}", plainCluster("c", "", be.addr()))
	for i, path := range []string{"/stall", "/route"} {
		resp, err := h2cClient(t).Get("http://" + s.Addr("l") + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 504 || string(body) != "downstream duration timeout" {
			t.Fatalf("%s: %d %q", path, resp.StatusCode, body)
		}
		s.WaitCounter("http.ingress.downstream_rq_max_duration_reached", uint64(i+1), 5*time.Second)
	}
}
