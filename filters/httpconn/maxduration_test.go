package httpconn_test

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/internal/sluicetest"
)

// TestMaxStreamDuration: common_http_protocol_options.max_stream_duration
// ends a stream as Envoy does: downstream_rq_max_duration_reached, and 504
// "downstream duration timeout" when the request had arrived whole (the
// upstream is slow); the upstream sees its request end.
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

// TestMaxStreamDurationUnfinishedBody: an HTTP/2 request whose body is
// still arriving when max_stream_duration passes is answered 408, and the
// HTTP/2 upstream sees its request end.
func TestMaxStreamDurationUnfinishedBody(t *testing.T) {
	ended := make(chan struct{}, 1)
	up := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // ends when sluice gives up on the request
		ended <- struct{}{}
	})}
	up.Protocols = new(http.Protocols)
	up.Protocols.SetUnencryptedHTTP2(true)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go up.Serve(ln)
	defer up.Close()
	s := sluicetest.Start(t, hcmConfig(ln.Addr().String(), "common_http_protocol_options: {max_stream_duration: 0.2s}", "")+h2Cluster)

	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	defer tr.CloseIdleConnections()
	pr, pw := io.Pipe()
	defer pw.Close()
	go pw.Write([]byte("the first part of a body that never ends"))
	req, _ := http.NewRequest("POST", "http://"+s.Addr("l")+"/upload", pr)
	resp, err := (&http.Client{Transport: tr, Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 408 || string(body) != "downstream duration timeout" {
		t.Fatalf("%d %q", resp.StatusCode, body)
	}
	s.WaitCounter("http.ingress.downstream_rq_max_duration_reached", 1, 5*time.Second)
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the upstream request did not end")
	}
}
