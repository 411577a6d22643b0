package httpconn_test

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"testing"

	"golang.org/x/net/http2"
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

// BenchmarkProxyH2C is BenchmarkProxyHTTP1 over one h2c (prior knowledge)
// client connection carrying the parallel streams, to an HTTP/1.1 backend.
func BenchmarkProxyH2C(b *testing.B) {
	be := startBackend(b, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("hello")) })
	s := startHCM(b, be.addr(), "", "")
	url := "http://" + s.Addr("l") + "/"
	tr := &http2.Transport{AllowHTTP: true, DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}
	defer tr.CloseIdleConnections()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("GET", url, nil)
			resp, err := tr.RoundTrip(req)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}
