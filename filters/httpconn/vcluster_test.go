package httpconn_test

import (
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestVirtualClusterStats: requests matching a virtual cluster's headers
// (":method", ":path", a header) count under
// vhost.<vh>.vcluster.<vc>.upstream_rq_*, the rest under "other", with
// codes, classes, time, retries and timeouts; a rewrite does not change
// the match (Envoy matches before it).
func TestVirtualClusterStats(t *testing.T) {
	var flaky atomic.Int64
	be := startBackend(t, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // see TestRetryPolicy
		switch {
		case r.URL.Path == "/slow":
			<-r.Context().Done() // held until sluice gives up
		case r.URL.Path == "/flaky" && flaky.Add(1) == 1:
			w.WriteHeader(http.StatusServiceUnavailable)
		case r.Method == "POST":
			w.WriteHeader(http.StatusCreated)
		case strings.HasPrefix(r.URL.Path, "/v2/"):
			w.WriteHeader(http.StatusNotFound)
		}
	})
	s := featSluice(t, `[{match: {prefix: "/slow"}, route: {cluster: c, timeout: 0.3s}},
 {match: {prefix: "/flaky"}, route: {cluster: c, retry_policy: {retry_on: "5xx", retry_back_off: {base_interval: 0.001s}}}},
 {match: {prefix: "/v1/"}, route: {cluster: c, prefix_rewrite: "/v2/"}},
 {match: {prefix: "/"}, route: {cluster: c}}]`,
		`virtual_clusters:
- {name: writes, headers: [{name: ":method", string_match: {exact: POST}}, {name: ":path", string_match: {prefix: /api/}}]}
- {name: v1, headers: [{name: ":path", string_match: {prefix: /v1/}}]}
- {name: tenant, headers: [{name: x-tenant, string_match: {exact: acme}}]}`, "", plainCluster("c", "", be.addr()))
	base := "http://" + s.Addr("l")
	for i := 0; i < 3; i++ {
		resp, err := http.Post(base+"/api/items", "text/plain", strings.NewReader("x"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	get(t, base+"/v1/thing") // rewritten to /v2/thing, counted as v1
	getWith(t, base+"/api/items", map[string]string{"X-Tenant": "acme"})
	get(t, base+"/other")
	if resp, _ := get(t, base+"/slow"); resp.StatusCode != 504 {
		t.Fatalf("slow: %d", resp.StatusCode)
	}
	if resp, _ := get(t, base+"/flaky"); resp.StatusCode != 200 {
		t.Fatalf("flaky: %d", resp.StatusCode)
	}
	for name, want := range map[string]uint64{
		"vhost.all.vcluster.writes.upstream_rq_total": 3, "vhost.all.vcluster.writes.upstream_rq_201": 3,
		"vhost.all.vcluster.writes.upstream_rq_2xx": 3,
		"vhost.all.vcluster.v1.upstream_rq_404":     1, "vhost.all.vcluster.v1.upstream_rq_4xx": 1,
		"vhost.all.vcluster.tenant.upstream_rq_200":  1,
		"vhost.all.vcluster.other.upstream_rq_total": 3, "vhost.all.vcluster.other.upstream_rq_504": 1,
		"vhost.all.vcluster.other.upstream_rq_timeout": 1, "vhost.all.vcluster.other.upstream_rq_retry": 1,
		"vhost.all.vcluster.other.upstream_rq_retry_success": 1, "vhost.all.vcluster.other.upstream_rq_200": 2,
	} {
		s.WaitCounter(name, want, 5*time.Second)
	}
	_, body := s.AdminGet("/stats?filter=vcluster.writes.upstream_rq_time")
	if !strings.Contains(body, "vhost.all.vcluster.writes.upstream_rq_time") {
		t.Fatalf("no upstream_rq_time histogram in /stats:\n%s", body)
	}
}
