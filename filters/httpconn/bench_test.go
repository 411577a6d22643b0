package httpconn_test

import (
	"io"
	"net/http"
	"testing"
)

// BenchmarkProxyHTTP1 sends small keep-alive GETs through sluice to a Go
// backend (client, sluice and backend share the machine's cores);
// bench/http.sh compares sluice with other proxies.
func BenchmarkProxyHTTP1(b *testing.B) {
	be := startBackend(b, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("hello")) })
	s := startHCM(b, be.addr(), "", "")
	url := "http://" + s.Addr("l") + "/"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	defer client.CloseIdleConnections()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Get(url)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}
