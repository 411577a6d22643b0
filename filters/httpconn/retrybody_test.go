package httpconn_test

import (
	"bytes"
	"crypto/rand"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// failFirst is a backend whose odd-numbered requests get status (after
// reading their body) and even-numbered ones an echo of the body; it
// records every body it read.
type failFirst struct {
	*backend
	mu     sync.Mutex
	bodies [][]byte
	n      atomic.Int64
}

func startFailFirst(t *testing.T, status int) *failFirst {
	f := &failFirst{}
	f.backend = startBackend(t, func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(599)
			return
		}
		f.mu.Lock()
		f.bodies = append(f.bodies, b)
		f.mu.Unlock()
		w.Header().Set("X-Seen-Attempt", r.Header.Get("X-Envoy-Attempt-Count"))
		w.Header().Set("X-Seen-Retry-On", r.Header.Get("X-Envoy-Retry-On"))
		if f.n.Add(1)%2 == 1 {
			w.WriteHeader(status)
			return
		}
		w.Write(b)
	})
	return f
}

func randomBody(t *testing.T, n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// noLength hides a reader's length so the client sends it chunked.
type noLength struct{ io.Reader }

// TestRetryWithBody: a POST whose first try gets a 503 is sent again with
// the same body, of known length and chunked, and the client gets the
// second try's answer; the backend read the identical body twice.
func TestRetryWithBody(t *testing.T) {
	be := startFailFirst(t, http.StatusServiceUnavailable)
	s := featSluice(t, `[{match: {prefix: "/"}, route: {cluster: c,
   retry_policy: {retry_on: "5xx", num_retries: 1, retry_back_off: {base_interval: 0.001s}}}}]`, "", "",
		plainCluster("c", "", be.addr()))
	body := randomBody(t, 300<<10)
	for i, rd := range []io.Reader{bytes.NewReader(body), noLength{bytes.NewReader(body)}} {
		resp, err := http.Post("http://"+s.Addr("l")+"/up", "application/octet-stream", rd)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !bytes.Equal(got, body) {
			t.Fatalf("request %d: status %d, %d bytes back (want 200 and the %d sent)", i, resp.StatusCode, len(got), len(body))
		}
	}
	be.mu.Lock()
	if len(be.bodies) != 4 {
		t.Fatalf("backend read %d bodies, want 4", len(be.bodies))
	}
	for i, b := range be.bodies {
		if !bytes.Equal(b, body) {
			t.Fatalf("try %d: backend read %d bytes, not the body sent", i, len(b))
		}
	}
	be.mu.Unlock()
	s.WaitCounter("cluster.c.upstream_rq_retry", 2, 5*time.Second)
	s.WaitCounter("cluster.c.upstream_rq_retry_success", 2, 5*time.Second)
}

// TestRetryBodyOverLimit: a body over per_request_buffer_limit_bytes is
// not retried, whether its length is known up front or found while
// streaming (Envoy's rule), and counts retry_or_shadow_abandoned.
func TestRetryBodyOverLimit(t *testing.T) {
	be := startFailFirst(t, http.StatusServiceUnavailable)
	s := featSluice(t, `[{match: {prefix: "/"}, per_request_buffer_limit_bytes: 4096, route: {cluster: c,
   retry_policy: {retry_on: "5xx", num_retries: 3, retry_back_off: {base_interval: 0.001s}}}}]`, "", "",
		plainCluster("c", "", be.addr()))
	body := randomBody(t, 64<<10)
	for i, rd := range []io.Reader{bytes.NewReader(body), noLength{bytes.NewReader(body)}} {
		be.n.Store(0) // each request's first try fails
		resp, err := http.Post("http://"+s.Addr("l")+"/", "application/octet-stream", rd)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 503 {
			t.Fatalf("request %d: status %d, want the first try's 503", i, resp.StatusCode)
		}
	}
	if h := be.hits.Load(); h != 2 {
		t.Fatalf("backend got %d requests, want 2 (no retry)", h)
	}
	s.WaitCounter("http.ingress.retry_or_shadow_abandoned", 2, 5*time.Second)
	if n := s.Counter("cluster.c.upstream_rq_retry"); n != 0 {
		t.Fatalf("upstream_rq_retry %d, want 0", n)
	}
	// A small body on the same route is retried.
	be.n.Store(0)
	resp, err := http.Post("http://"+s.Addr("l")+"/", "text/plain", strings.NewReader("small"))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(got) != "small" {
		t.Fatalf("small body: %d %q", resp.StatusCode, got)
	}
}

// TestRetrySkippedRequestNotComplete: an upstream that answers 503 before
// the client finished its body is not retried (Envoy's
// rq_retry_skipped_request_not_complete); the client gets the 503 while
// still sending.
func TestRetrySkippedRequestNotComplete(t *testing.T) {
	be := startBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.(http.Flusher).Flush()
		io.Copy(io.Discard, r.Body)
	})
	s := featSluice(t, `[{match: {prefix: "/"}, route: {cluster: c,
   retry_policy: {retry_on: "5xx", num_retries: 2, retry_back_off: {base_interval: 0.001s}}}}]`, "", "",
		plainCluster("c", "", be.addr()))
	pr, pw := io.Pipe()
	type result struct {
		resp *http.Response
		err  error
	}
	done := make(chan result, 1)
	go func() {
		req, _ := http.NewRequest("POST", "http://"+s.Addr("l")+"/", pr)
		resp, err := http.DefaultClient.Do(req)
		done <- result{resp, err}
	}()
	pw.Write([]byte("first part"))
	var res result
	select {
	case res = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("no response while the body was incomplete")
	}
	pw.Write([]byte("rest"))
	pw.Close()
	if res.err != nil {
		t.Fatal(res.err)
	}
	io.Copy(io.Discard, res.resp.Body)
	res.resp.Body.Close()
	if res.resp.StatusCode != 503 {
		t.Fatalf("status %d", res.resp.StatusCode)
	}
	s.WaitCounter("http.ingress.rq_retry_skipped_request_not_complete", 1, 5*time.Second)
	if h := be.hits.Load(); h != 1 {
		t.Fatalf("backend got %d tries, want 1", h)
	}
}

// TestRetryStalledErrorBody: a 503 whose body stalls is dropped at once
// and retried; the retry does not wait for the stalled body (the route
// timeout would end the request first).
func TestRetryStalledErrorBody(t *testing.T) {
	var n atomic.Int64
	be := startBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("partial"))
			w.(http.Flusher).Flush()
			<-r.Context().Done()
			return
		}
		w.Write([]byte("ok"))
	})
	s := featSluice(t, `[{match: {prefix: "/"}, route: {cluster: c, timeout: 3s,
   retry_policy: {retry_on: "5xx", retry_back_off: {base_interval: 0.001s}}}}]`, "", "", plainCluster("c", "", be.addr()))
	resp, body := get(t, "http://"+s.Addr("l")+"/")
	if resp.StatusCode != 200 || body != "ok" {
		t.Fatalf("%d %q, want the retry's 200", resp.StatusCode, body)
	}
}
