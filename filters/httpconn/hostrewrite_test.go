package httpconn_test

import (
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// TestAutoHostRewrite: auto_host_rewrite sends the chosen host's hostname
// (the endpoint's hostname) as the Host, on retries too; an endpoint
// without one leaves the client's Host. host_rewrite_path_regex takes the
// Host from the path, before the path's own rewrite.
func TestAutoHostRewrite(t *testing.T) {
	var n atomic.Int64
	be := startBackend(t, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // see TestRetryPolicy
		w.Header().Set("X-Seen-Host", r.Host)
		if strings.HasPrefix(r.URL.Path, "/retry") && n.Add(1) == 1 {
			w.WriteHeader(503)
		}
	})
	s := featSluice(t, `[{match: {prefix: "/plain"}, route: {cluster: ip, auto_host_rewrite: true}},
 {match: {prefix: "/hosts/"}, route: {cluster: ip, prefix_rewrite: "/", host_rewrite_path_regex: {pattern: {regex: "^/hosts/([^/]+)/.*$"}, substitution: "\\1.internal"}}},
 {match: {prefix: "/"}, route: {cluster: named, auto_host_rewrite: true, retry_policy: {retry_on: "5xx", per_try_timeout: 5s, retry_back_off: {base_interval: 0.001s}}}}]`, "", "",
		"- name: named\n  connect_timeout: 1s\n  endpoints: [{address: \""+be.addr()+"\", hostname: backend.internal}]\n"+plainCluster("ip", "", be.addr()))
	for path, want := range map[string]string{"/x": "backend.internal", "/retry": "backend.internal", "/plain": "client.example",
		"/hosts/billing/x?q=1": "billing.internal"} {
		req, _ := http.NewRequest("POST", "http://"+s.Addr("l")+path, strings.NewReader("body"))
		req.Host = "client.example"
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("X-Seen-Host") != want {
			t.Fatalf("%s: %d, upstream saw Host %q, want %q", path, resp.StatusCode, resp.Header.Get("X-Seen-Host"), want)
		}
	}
}
