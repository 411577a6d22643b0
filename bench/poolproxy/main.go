// Command poolproxy is a minimal h2c reverse proxy over cluster/httppool,
// for bench/grpc.sh while sluice's http_connection_manager is not there: it
// measures the pool itself (connections spread over server processes)
// with the same load and servers as the other paths. It is not sluice's
// HTTP path: no routing, no filters, no header hygiene beyond what gRPC
// needs.
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"

	"github.com/sluice-proxy/sluice/cluster"
	"github.com/sluice-proxy/sluice/cluster/httppool"
	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/stats"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:19104", "h2c listen address")
	upstream := flag.String("upstream", "127.0.0.1:19100", "upstream host:port (HTTP/2, h2c)")
	extra := flag.String("cluster", "", "more cluster YAML fields, e.g. ', http_pool: {max_connections_per_host: 1}'")
	flag.Parse()

	st := stats.New()
	m := cluster.NewManager(st.Root(), slog.New(slog.DiscardHandler))
	cfg, err := config.Parse("poolproxy", []byte(fmt.Sprintf(`clusters: [{name: up, endpoints: ["%s"],
  typed_extension_protocol_options: {envoy.extensions.upstreams.http.v3.HttpProtocolOptions: {explicit_http_config: {http2_protocol_options: {}}}},
  circuit_breakers: {thresholds: [{max_pending_requests: 100000, max_requests: 100000}]}%s}]`, *upstream, *extra)))
	if err != nil {
		log.Fatal(err)
	}
	m.Apply(cfg.Clusters)
	pools := httppool.NewPools(m, httppool.Options{})
	pool, err := pools.Get("up")
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Addr: *listen, Handler: proxy{pool}, Protocols: new(http.Protocols)}
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetUnencryptedHTTP2(true)
	log.Fatal(srv.ListenAndServe())
}

// proxy forwards every request to the pool and streams the answer back,
// trailers included.
type proxy struct{ pool *httppool.Pool }

func (p proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	resp, err := p.pool.RoundTrip(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, vv := range resp.Header {
		w.Header()[k] = vv
	}
	w.WriteHeader(resp.StatusCode)
	rc := http.NewResponseController(w)
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			w.Write(buf[:n])
			rc.Flush()
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			panic(http.ErrAbortHandler) // reset the downstream stream
		}
	}
	for k, vv := range resp.Trailer {
		w.Header()[http.TrailerPrefix+k] = vv
	}
}
