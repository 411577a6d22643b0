package httpconn_test

import (
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestHCMRouteExtras: strip_any_host_port routes "app.example:8080" by
// its name; via on the request and the upstream response;
// always_set_request_id_in_response; cluster_not_found_response_code;
// append_x_forwarded_host with a host rewrite; and
// include_is_timeout_retry_header on a retry after a per-try timeout.
func TestHCMRouteExtras(t *testing.T) {
	var slow atomic.Int64
	be := startBackend(t, func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("X-Seen-Host", r.Host)
		w.Header().Set("X-Seen-Via", r.Header.Get("Via"))
		w.Header().Set("X-Seen-XFH", r.Header.Get("X-Forwarded-Host"))
		w.Header().Set("X-Seen-Timeout-Retry", r.Header.Get("X-Envoy-Is-Timeout-Retry"))
		w.Header().Set("Via", "1.1 backend")
		if r.URL.Path == "/slow" && slow.Add(1) == 1 {
			<-r.Context().Done() // the first try outlives per_try_timeout
		}
	})
	s := featSluice(t, `[{match: {prefix: "/nocluster"}, route: {cluster_header: x-cluster, cluster_not_found_response_code: NOT_FOUND}},
 {match: {prefix: "/rewrite"}, route: {cluster: c, host_rewrite_literal: internal.example, append_x_forwarded_host: true}},
 {match: {prefix: "/slow"}, route: {cluster: c, retry_policy: {retry_on: "reset", per_try_timeout: 0.2s, retry_back_off: {base_interval: 0.001s}}}},
 {match: {prefix: "/"}, route: {cluster: c}}]`, "include_is_timeout_retry_header: true",
		"strip_any_host_port: true\nvia: sluice-test\nalways_set_request_id_in_response: true", plainCluster("c", "", be.addr()))
	// The virtual host "all" has domains ["*"]; check the stripping by the
	// Host the upstream saw.
	do := func(path, host string) *http.Response {
		req, _ := http.NewRequest("GET", "http://"+s.Addr("l")+path, nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	resp := do("/x", "app.example:8080")
	if h := resp.Header.Get("X-Seen-Host"); h != "app.example" {
		t.Errorf("Host upstream %q, want the port stripped", h)
	}
	if v := resp.Header.Get("X-Seen-Via"); v != "sluice-test" {
		t.Errorf("request via %q", v)
	}
	if v := resp.Header.Get("Via"); v != "1.1 backend, sluice-test" {
		t.Errorf("response via %q", v)
	}
	if id := resp.Header.Values("X-Request-Id"); len(id) != 1 || len(id[0]) != 36 {
		t.Errorf("x-request-id in the response %q", id)
	}
	if resp := do("/nocluster", "a"); resp.StatusCode != 404 {
		t.Errorf("cluster not found: %d, want 404", resp.StatusCode)
	}
	if resp := do("/rewrite", "public.example"); resp.Header.Get("X-Seen-Host") != "internal.example" || resp.Header.Get("X-Seen-XFH") != "public.example" {
		t.Errorf("rewrite: host %q, x-forwarded-host %q", resp.Header.Get("X-Seen-Host"), resp.Header.Get("X-Seen-XFH"))
	}
	if resp := do("/slow", "a"); resp.StatusCode != 200 || resp.Header.Get("X-Seen-Timeout-Retry") != "true" {
		t.Errorf("timeout retry: %d, x-envoy-is-timeout-retry %q", resp.StatusCode, resp.Header.Get("X-Seen-Timeout-Retry"))
	}
	s.WaitCounter("cluster.c.upstream_rq_per_try_timeout", 1, 5*time.Second)
}

// TestRequireTLS: require_tls ALL answers a plain-text request with a 301
// to https, whatever the route; a request that came over TLS upstream of
// sluice (x-forwarded-proto https, trusted without use_remote_address) is
// proxied; EXTERNAL_ONLY spares x-envoy-internal requests.
func TestRequireTLS(t *testing.T) {
	be := startBackend(t, echoHandler)
	for _, mode := range []string{"ALL", "EXTERNAL_ONLY"} {
		s := featSluice(t, `[{match: {prefix: "/"}, route: {cluster: c}}]`, "require_tls: "+mode, "", plainCluster("c", "", be.addr()))
		c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		do := func(hdr map[string]string) *http.Response {
			req, _ := http.NewRequest("GET", "http://"+s.Addr("l")+"/p?q=1", nil)
			req.Host = "shop.example"
			for k, v := range hdr {
				req.Header.Set(k, v)
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp
		}
		if resp := do(nil); resp.StatusCode != 301 || resp.Header.Get("Location") != "https://shop.example/p?q=1" {
			t.Fatalf("%s: %d %q", mode, resp.StatusCode, resp.Header.Get("Location"))
		}
		if resp := do(map[string]string{"X-Forwarded-Proto": "https"}); resp.StatusCode != 200 {
			t.Fatalf("%s over TLS: %d", mode, resp.StatusCode)
		}
		want := 301
		if mode == "EXTERNAL_ONLY" {
			want = 200
		}
		if resp := do(map[string]string{"X-Envoy-Internal": "true"}); resp.StatusCode != want {
			t.Fatalf("%s internal: %d, want %d", mode, resp.StatusCode, want)
		}
		s.WaitCounter("http.ingress.rq_redirect", 1, 5*time.Second)
	}
}

// TestServerHeaderTransformation: OVERWRITE replaces the upstream's server
// header, APPEND_IF_ABSENT keeps it (and fills one in when absent),
// PASS_THROUGH keeps it and adds none to local replies.
func TestServerHeaderTransformation(t *testing.T) {
	be := startBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/named" {
			w.Header().Set("Server", "backend/1.0")
		}
	})
	routes := `[{match: {prefix: "/none"}, direct_response: {status: 404}}, {match: {prefix: "/"}, route: {cluster: c}}]`
	for _, tc := range []struct{ mode, named, anon, local string }{
		{"OVERWRITE", "envoy", "envoy", "envoy"},
		{"APPEND_IF_ABSENT", "backend/1.0", "envoy", "envoy"},
		{"PASS_THROUGH", "backend/1.0", "", ""},
	} {
		s := featSluice(t, routes, "", "server_header_transformation: "+tc.mode, plainCluster("c", "", be.addr()))
		for path, want := range map[string]string{"/named": tc.named, "/anon": tc.anon, "/none": tc.local} {
			resp, _ := get(t, "http://"+s.Addr("l")+path)
			if got := resp.Header.Get("Server"); got != want {
				t.Errorf("%s %s: server %q, want %q", tc.mode, path, got, want)
			}
		}
	}
}

// TestNormalizePath: with normalize_path and merge_slashes, a traversal
// ("/public/../admin", "/%2e%2e/admin") or doubled slashes ("//admin")
// reach the route for /admin and the upstream sees "/admin"; without
// them the path is routed as received.
func TestNormalizePath(t *testing.T) {
	be := startBackend(t, echoHandler)
	routes := `[{match: {prefix: "/admin"}, route: {cluster: c}}, {match: {prefix: "/"}, direct_response: {status: 403}}]`
	on := featSluice(t, routes, "", "normalize_path: true\nmerge_slashes: true", plainCluster("c", "", be.addr()))
	off := featSluice(t, routes, "", "", plainCluster("c", "", be.addr()))
	for _, p := range []string{"/public/../admin", "/public/%2e%2e/admin", "//admin"} {
		raw := "GET " + p + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
		if got := rawExchange(t, on.Addr("l"), raw); !strings.Contains(got, "200 OK") || !strings.HasSuffix(got, "GET /admin ") {
			t.Errorf("normalized %s: %q", p, got)
		}
		if got := rawExchange(t, off.Addr("l"), raw); !strings.Contains(got, "403") {
			t.Errorf("as received %s: %q", p, got)
		}
	}
}

// TestSkipXffAppend: at an edge listener, skip_xff_append leaves
// x-forwarded-for as the client sent it.
func TestSkipXffAppend(t *testing.T) {
	be := startBackend(t, echoHandler)
	for skip, want := range map[bool]string{false: "10.0.0.1,127.0.0.1", true: "10.0.0.1"} {
		extra := "use_remote_address: true"
		if skip {
			extra += "\nskip_xff_append: true"
		}
		s := featSluice(t, `[{match: {prefix: "/"}, route: {cluster: c}}]`, "", extra, plainCluster("c", "", be.addr()))
		resp := getWith(t, "http://"+s.Addr("l")+"/", map[string]string{"X-Forwarded-For": "10.0.0.1"})
		if got := resp.Header.Get("X-Seen-XFF"); got != want {
			t.Errorf("skip %v: upstream saw x-forwarded-for %q, want %q", skip, got, want)
		}
	}
}
