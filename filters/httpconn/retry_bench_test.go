package httpconn_test

import (
	"bytes"
	"io"
	"net/http"
	"testing"
)

// BenchmarkPostBody sends 16 KiB POSTs through sluice, on a route without
// a retry policy and on one with retries and a mirror (the body kept for
// replay and copied to the shadow): the cost of keeping bodies.
func BenchmarkPostBody(b *testing.B) {
	be := startBackend(b, func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		if n != 16<<10 {
			w.WriteHeader(400)
		}
	})
	s := featSluice(b, `[{match: {prefix: "/keep"}, route: {cluster: c, retry_policy: {retry_on: "5xx,reset", num_retries: 2},
   request_mirror_policies: [{cluster: c}]}},
 {match: {prefix: "/"}, route: {cluster: c}}]`, "", "", plainCluster("c", "", be.addr()))
	body := bytes.Repeat([]byte("b"), 16<<10)
	for _, path := range []string{"/plain", "/keep"} {
		b.Run(path[1:], func(b *testing.B) {
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			defer client.CloseIdleConnections()
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp, err := client.Post("http://"+s.Addr("l")+path, "application/octet-stream", bytes.NewReader(body))
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
				}
			})
		})
	}
}
