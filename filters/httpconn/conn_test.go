package httpconn_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// TestDrainClosesPolitely removes the listener by a reload: an idle HTTP/1.1
// keep-alive connection is closed at once, an HTTP/2 connection gets GOAWAY
// (no new streams), both well before the drain deadline.
func TestDrainClosesPolitely(t *testing.T) {
	be := startBackend(t, echoHandler)
	cfg := "drain_timeout: 1h\n" + hcmConfig(be.addr(), "", "")
	s := startHCM(t, be.addr(), "", "")
	if err := s.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	addr := s.Addr("l")
	h1, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer h1.Close()
	io.WriteString(h1, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(h1)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	c2, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	cc, err := (&http2.Transport{AllowHTTP: true}).NewClientConn(c2)
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	req, _ := http.NewRequest("GET", "http://"+addr+"/b", nil)
	if resp, err := cc.RoundTrip(req); err != nil {
		t.Fatal(err)
	} else {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	// The same config with the listener renamed: "l" drains.
	if err := s.Reload(strings.Replace(strings.Replace(cfg, "name: l", "name: l2", 1), addr, "127.0.0.1:0", 1)); err != nil {
		t.Fatal(err)
	}
	h1.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := br.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("idle HTTP/1.1 connection: read %d, %v; want EOF", n, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for cc.CanTakeNewRequest() {
		if time.Now().After(deadline) {
			t.Fatal("no GOAWAY on the HTTP/2 connection")
		}
		cc.Ping(t.Context()) // reads the GOAWAY sooner
	}
	s.WaitCounter("http.ingress.downstream_cx_drain_close", 1, 5*time.Second)
}

// TestRequestHeadersTimeout: a head that never ends gets 408 and a close.
func TestRequestHeadersTimeout(t *testing.T) {
	be := startBackend(t, echoHandler)
	s := startHCM(t, be.addr(), "request_headers_timeout: 100ms", "")
	c, err := net.Dial("tcp", s.Addr("l"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n")
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	out, _ := io.ReadAll(c)
	if !strings.HasPrefix(string(out), "HTTP/1.1 408 ") {
		t.Fatalf("got %q", out)
	}
	s.WaitCounter("http.ingress.downstream_rq_header_timeout", 1, 5*time.Second)
}

// TestForwardedForAndUnderscores: use_remote_address appends the peer to
// x-forwarded-for and drops x-envoy-* from outside; headers with
// underscores are refused with REJECT_REQUEST.
func TestForwardedForAndUnderscores(t *testing.T) {
	var seen http.Header
	be := startBackend(t, func(w http.ResponseWriter, r *http.Request) { seen = r.Header.Clone() })
	s := startHCM(t, be.addr(), `use_remote_address: true
xff_num_trusted_hops: 1
common_http_protocol_options: {headers_with_underscores_action: REJECT_REQUEST}`, "")
	req, _ := http.NewRequest("GET", "http://"+s.Addr("l")+"/", nil)
	req.Header.Set("X-Forwarded-For", "203.0.113.7")
	req.Header.Set("X-Envoy-Retry-On", "5xx")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := seen.Get("X-Forwarded-For"); got != "203.0.113.7,127.0.0.1" {
		t.Fatalf("x-forwarded-for %q", got)
	}
	if seen.Get("X-Envoy-External-Address") != "203.0.113.7" || seen.Get("X-Envoy-Retry-On") != "" {
		t.Fatalf("envoy headers: %v", seen)
	}
	if seen.Get("X-Forwarded-Proto") != "http" {
		t.Fatalf("x-forwarded-proto %q", seen.Get("X-Forwarded-Proto"))
	}
	out := rawExchange(t, s.Addr("l"), "GET / HTTP/1.1\r\nHost: x\r\nX_Bad: 1\r\nConnection: close\r\n\r\n")
	if !strings.HasPrefix(out, "HTTP/1.1 400 ") {
		t.Fatalf("underscore header: %q", out)
	}
	s.WaitCounter("http.ingress.requests_rejected_with_underscores_in_headers", 1, 5*time.Second)
}

// TestEarlyUpstreamAnswer: the upstream answers an upload before reading
// it; the client gets the answer and the connection serves the next
// request (run with -race: the body is read by the upstream transport).
func TestEarlyUpstreamAnswer(t *testing.T) {
	be := startBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
			return
		}
		io.WriteString(w, "next")
	})
	s := startHCM(t, be.addr(), "", "")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	defer client.CloseIdleConnections()
	resp, err := client.Post("http://"+s.Addr("l")+"/up", "application/octet-stream", strings.NewReader(strings.Repeat("x", 100<<10)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("got %d", resp.StatusCode)
	}
	resp, err = client.Get("http://" + s.Addr("l") + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "next" {
		t.Fatalf("next request: %q", b)
	}
}
