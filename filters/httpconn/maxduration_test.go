package httpconn_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestMaxStreamDuration: common_http_protocol_options.max_stream_duration
// ends a stream as Envoy does: downstream_rq_max_duration_reached, and 504
// "downstream duration timeout" when the request had arrived whole (the
// upstream is slow); the upstream sees its request end. (408, for a request
// whose body is still arriving, is not tested: over an HTTP/1.1 upstream
// the stalled body writer holds the exchange, see the README.)
func TestMaxStreamDuration(t *testing.T) {
	ended := make(chan struct{}, 4)
	b := startBackend(t, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		<-r.Context().Done() // never answers: only sluice's timer ends this
		ended <- struct{}{}
	})
	s := startHCM(t, strings.TrimPrefix(b.URL, "http://"), "common_http_protocol_options: {max_stream_duration: 0.2s}", "")

	resp, err := http.Get("http://" + s.Addr("l") + "/slow")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 504 || string(body) != "downstream duration timeout" {
		t.Fatalf("slow upstream: %d %q", resp.StatusCode, body)
	}
	s.WaitCounter("http.ingress.downstream_rq_max_duration_reached", 1, 5*time.Second)
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the upstream request did not end")
	}

}
