package httpconn_test

import (
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestClientCloseCancelsUpstream: an HTTP/1.1 client closing its
// connection while its request waits on the upstream cancels the upstream
// request (the Go backend sees its request context end), for a bodiless
// GET and for a POST whose body was sent whole; the close is counted in
// downstream_cx_destroy_remote_active_rq.
func TestClientCloseCancelsUpstream(t *testing.T) {
	started := make(chan string, 4)
	canceled := make(chan string, 4)
	be := startBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			var buf [64]byte
			for { // the whole body first: the proxy watches only after it
				if _, err := r.Body.Read(buf[:]); err != nil {
					break
				}
			}
		}
		started <- r.URL.Path
		select {
		case <-r.Context().Done():
			canceled <- r.URL.Path
		case <-time.After(30 * time.Second):
		}
	})
	s := startHCM(t, be.addr(), "", "")
	for i, req := range []string{
		"GET /get HTTP/1.1\r\nHost: a\r\n\r\n",
		"POST /post HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
	} {
		path := strings.Fields(req)[1]
		c, err := net.Dial("tcp", s.Addr("l"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write([]byte(req)); err != nil {
			t.Fatal(err)
		}
		select {
		case p := <-started:
			if p != path {
				t.Fatalf("backend got %s, want %s", p, path)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s never reached the backend", path)
		}
		c.Close()
		select {
		case p := <-canceled:
			if p != path {
				t.Fatalf("canceled %s, want %s", p, path)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: the upstream request was not canceled after the client closed", path)
		}
		s.WaitCounter("http.ingress.downstream_cx_destroy_remote_active_rq", uint64(i+1), 5*time.Second)
	}
}
