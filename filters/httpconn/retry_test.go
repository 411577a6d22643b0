package httpconn_test

import (
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// TestRetryPolicy: a 503 then a 200; the route's retry_policy retries once.
// A POST with a body is not replayed.
func TestRetryPolicy(t *testing.T) {
	var n atomic.Int64
	be := startBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%2 == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("second try"))
	})
	s := startHCM(t, be.addr(), "", `[{match: {prefix: "/"}, route: {cluster: c,
   retry_policy: {retry_on: "5xx", num_retries: 2, retry_back_off: {base_interval: 0.001s}}}}]`)
	resp, body := get(t, "http://"+s.Addr("l")+"/")
	if resp.StatusCode != 200 || body != "second try" {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
	s.WaitCounter("cluster.c.upstream_rq_retry", 1, 5*time.Second)
	s.WaitCounter("cluster.c.upstream_rq_retry_success", 1, 5*time.Second)
	s.WaitCounter("cluster.c.upstream_rq_503", 1, 5*time.Second)
	resp, err := http.Post("http://"+s.Addr("l")+"/", "text/plain", stringsReader("body"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Fatalf("POST with a body: %d, want the 503 unretried", resp.StatusCode)
	}
	if got := s.Counter("cluster.c.upstream_rq_retry"); got != 1 {
		t.Fatalf("upstream_rq_retry %d after the POST, want 1", got)
	}
}
