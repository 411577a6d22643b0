package httppool

import (
	"io"
	"net/http"
	"testing"

	"github.com/sluice-proxy/sluice/cluster"
)

// TestOutlierSees5xx: consecutive 503s from one host eject it through the
// cluster's outlier detection; requests then go to the healthy one.
func TestOutlierSees5xx(t *testing.T) {
	bad := serveGo(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) }), true)
	good := serveGo(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }), true)
	e := newEnv(t, clusterYAML(h2c+`, outlier_detection: {consecutive_5xx: 3, max_ejection_percent: 50}`, bad.addr, good.addr), Options{})
	p := e.pool("c")
	var badHost *cluster.Host
	for _, h := range e.m.Get("c").Hosts() {
		if h.Address() == bad.addr {
			badHost = h
		}
	}
	for i := 0; i < 6; i++ {
		get(t, p, "/")
	}
	if badHost.Flags()&cluster.FailedOutlierCheck == 0 {
		t.Fatalf("bad host not ejected after 3 of its 503s: flags %v, rq_error %d", badHost.Flags(), badHost.RqError.Load())
	}
	for i := 0; i < 6; i++ {
		if code, _ := get(t, p, "/"); code != 200 {
			t.Fatalf("request %d after the ejection got %d", i, code)
		}
	}
	if got := e.counter("cluster.c.outlier_detection.ejections_enforced_consecutive_5xx"); got != 1 {
		t.Errorf("ejections_enforced_consecutive_5xx = %d", got)
	}
}

// TestMaxConnectionDuration: a connection older than max_connection_duration
// takes no new request and closes once idle.
func TestMaxConnectionDuration(t *testing.T) {
	srv := serveGo(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }), true)
	e := newEnv(t, clusterYAML(`, typed_extension_protocol_options: {envoy.extensions.upstreams.http.v3.HttpProtocolOptions: {explicit_http_config: {http2_protocol_options: {}}, common_http_protocol_options: {max_connection_duration: 0.05s}}}, http_pool: {min_connections_per_host: 0}`+noPreconnect, srv.addr), Options{})
	p := e.pool("c")
	get(t, p, "/")
	e.eventually("the connection retired and closed", func() bool {
		return e.counter("cluster.c.upstream_cx_max_duration_reached") == 1 && e.gauge("cluster.c.upstream_cx_active") == 0
	})
	get(t, p, "/")
	if n := srv.peers.conns(); n != 2 {
		t.Errorf("server saw %d connections, want 2", n)
	}
}
