package httppool

import (
	"io"
	"net/http"
	"testing"
)

// benchPool measures RoundTrip with parallel callers against a Go server,
// through the pool and, for comparison, through net/http's own Transport.
func benchPool(b *testing.B, h2 bool) {
	srv := serveGo(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }), h2).addr
	extra := ""
	if h2 {
		extra = h2c
	}
	e := newEnv(b, clusterYAML(extra, srv), Options{})
	p := e.pool("c")
	b.Run("pool", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				req, _ := http.NewRequest("GET", "http://upstream/", nil)
				resp, err := p.RoundTrip(req)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	})
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetHTTP1(!h2)
	tr.Protocols.SetUnencryptedHTTP2(h2)
	defer tr.CloseIdleConnections()
	b.Run("net-http-transport", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				req, _ := http.NewRequest("GET", "http://"+srv+"/", nil)
				resp, err := tr.RoundTrip(req)
				if err != nil {
					b.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	})
}

func BenchmarkRoundTripHTTP1(b *testing.B) { benchPool(b, false) }
func BenchmarkRoundTripH2C(b *testing.B)   { benchPool(b, true) }
