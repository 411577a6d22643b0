package router

import (
	"crypto/tls"
	"net"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/cespare/xxhash/v2"
)

const actionYAML = `
request_headers_to_add:
- {header: {key: x-level, value: config}, append_action: OVERWRITE_IF_EXISTS_OR_ADD}
response_headers_to_add:
- {header: {key: x-served-by, value: sluice}}
response_headers_to_remove: [server]
typed_per_filter_config:
  envoy.filters.http.cors: {level: config}
virtual_hosts:
- name: v
  domains: ["*"]
  retry_policy: {retry_on: "5xx", num_retries: 4}
  request_headers_to_add:
  - {header: {key: x-level, value: vhost}, append_action: OVERWRITE_IF_EXISTS_OR_ADD}
  - {header: {key: x-vhost, value: "yes"}}
  request_headers_to_remove: [x-secret]
  typed_per_filter_config:
    envoy.filters.http.cors: {level: vhost}
    envoy.filters.http.ext_authz: {level: vhost}
  routes:
  - name: plain
    match: {prefix: "/plain"}
    route: {cluster: backend}
    request_headers_to_add:
    - {header: {key: x-level, value: route}, append_action: OVERWRITE_IF_EXISTS_OR_ADD}
    - {header: {key: x-add, value: one}}
    - {header: {key: x-absent, value: new}, append_action: ADD_IF_ABSENT}
    - {header: {key: x-only-if, value: changed}, append_action: OVERWRITE_IF_EXISTS}
    - {header: {key: x-none, value: nope}, append_action: OVERWRITE_IF_EXISTS}
    - {header: {key: x-empty, value: ""}}
    - {header: {key: x-kept-empty, value: ""}, keep_empty_value: true}
    typed_per_filter_config:
      envoy.filters.http.cors: {level: route}
  - name: rewrite
    match: {prefix: "/api/v1/"}
    route:
      cluster: backend
      prefix_rewrite: "/v2/"
      host_rewrite_literal: upstream.internal
      timeout: 2s
      idle_timeout: 0s
      retry_policy:
        retry_on: "gateway-error, retriable-status-codes,reset"
        retriable_status_codes: [409]
        per_try_timeout: 500ms
        retry_back_off: {base_interval: 100ms}
      request_mirror_policies: [{cluster: shadow}]
  - name: regex
    match: {safe_regex: {regex: "/users/([0-9]+)/profile"}}
    route:
      cluster_header: x-cluster
      host_rewrite_header: x-host
      regex_rewrite: {pattern: {regex: "^/users/([0-9]+)/profile$"}, substitution: '/profile?id=\1'}
  - name: weighted
    match: {prefix: "/w"}
    route:
      weighted_clusters:
        clusters: [{name: blue, weight: 1}, {name: none, weight: 0}, {name: green, weight: 3}]
  - name: direct
    match: {path: "/health"}
    direct_response: {status: 200, body: {inline_string: "ok\n"}}
  - name: redir-https
    match: {prefix: "/secure"}
    redirect: {https_redirect: true}
  - name: redir-all
    match: {prefix: "/old/"}
    redirect: {host_redirect: new.example, port_redirect: 8443, prefix_rewrite: "/new/", response_code: PERMANENT_REDIRECT, strip_query: true}
  - name: redir-path
    match: {prefix: "/moved"}
    redirect: {path_redirect: "/here?x=1", response_code: FOUND}
`

func TestRewriteAndHeaderMutations(t *testing.T) {
	tbl := compileYAML(t, actionYAML)
	req := request("GET", "/plain", "h", "x-secret", "s", "x-absent", "old", "x-only-if", "before", "x-add", "zero")
	r := tbl.Route(req)
	r.Rewrite(req)
	want := http.Header{
		"X-Level":      {"config"}, // Envoy's default: the config's mutations apply last
		"X-Add":        {"zero", "one"},
		"X-Absent":     {"old"},
		"X-Only-If":    {"changed"},
		"X-Kept-Empty": {""},
		"X-Vhost":      {"yes"},
	}
	if !reflect.DeepEqual(req.Header, want) {
		t.Fatalf("request headers %v, want %v", req.Header, want)
	}
	resp := http.Header{"Server": {"upstream"}}
	r.MutateResponse(resp)
	if !reflect.DeepEqual(resp, http.Header{"X-Served-By": {"sluice"}}) {
		t.Fatalf("response headers %v", resp)
	}
	for name, want := range map[string]any{
		"envoy.filters.http.cors":      map[string]any{"level": "route"},
		"envoy.filters.http.ext_authz": map[string]any{"level": "vhost"},
		"envoy.filters.http.ratelimit": nil,
	} {
		if got := r.PerFilterConfig(name); !reflect.DeepEqual(got, want) {
			t.Errorf("PerFilterConfig(%s) = %v, want %v", name, got, want)
		}
	}
	if p := r.Retry(); p == nil || p.NumRetries != 4 || !p.On("5xx") {
		t.Fatalf("the virtual host's retry policy is not inherited: %+v", p)
	}
	if r.Timeout() != DefaultTimeout {
		t.Fatalf("default timeout %v", r.Timeout())
	}
}

func TestMostSpecificHeaderMutationsWins(t *testing.T) {
	tbl := compileYAML(t, "most_specific_header_mutations_wins: true\n"+actionYAML)
	req := request("GET", "/plain", "h")
	tbl.Route(req).Rewrite(req)
	if got := req.Header.Get("X-Level"); got != "route" {
		t.Fatalf("x-level %q, want route", got)
	}
}

func TestPrefixRewriteAndRoutePolicy(t *testing.T) {
	tbl := compileYAML(t, actionYAML)
	req := request("GET", "/api/v1/items%2Fx?q=1", "front")
	r := tbl.Route(req)
	if r.Name() != "rewrite" {
		t.Fatalf("routed to %s", r.Name())
	}
	r.Rewrite(req)
	if got := req.URL.RequestURI(); got != "/v2/items%2Fx?q=1" {
		t.Fatalf("rewritten to %q", got)
	}
	if req.Host != "upstream.internal" || r.Cluster(req) != "backend" {
		t.Fatalf("host %q cluster %q", req.Host, r.Cluster(req))
	}
	if r.Timeout() != 2*time.Second {
		t.Fatalf("timeout %v", r.Timeout())
	}
	if d, ok := r.IdleTimeout(); !ok || d != 0 {
		t.Fatalf("idle timeout %v %v", d, ok)
	}
	p := r.Retry()
	want := &RetryPolicy{RetryOn: []string{"gateway-error", "retriable-status-codes", "reset"}, NumRetries: 1,
		PerTryTimeout: 500 * time.Millisecond, BaseInterval: 100 * time.Millisecond, MaxInterval: time.Second,
		RetriableStatusCodes: []uint32{409}}
	if !reflect.DeepEqual(p, want) {
		t.Fatalf("retry %+v, want %+v", p, want)
	}
	for status, want := range map[int]bool{503: true, 500: false, 409: true, 404: false} {
		if p.RetriableStatus(status) != want {
			t.Errorf("RetriableStatus(%d) != %v", status, want)
		}
	}
	if m := r.Mirrors(); len(m) != 1 || m[0].Cluster != "shadow" || !m[0].Sample() {
		t.Fatalf("mirrors %+v", m)
	}
}

func TestRegexRewriteAndClusterHeader(t *testing.T) {
	tbl := compileYAML(t, actionYAML)
	req := request("GET", "/users/42/profile", "front", "x-cluster", "users", "x-host", "users.svc")
	r := tbl.Route(req)
	r.Rewrite(req)
	if got := req.URL.EscapedPath(); got != "/profile%3Fid=42" {
		// the substitution's "?" is part of the path, as in Envoy.
		t.Fatalf("rewritten path %q", got)
	}
	if req.Host != "users.svc" || r.Cluster(req) != "users" {
		t.Fatalf("host %q cluster %q", req.Host, r.Cluster(req))
	}
	if r.Cluster(request("GET", "/users/1/profile", "h")) != "" {
		t.Fatal("a missing cluster_header named a cluster")
	}
}

func TestWeightedClusters(t *testing.T) {
	tbl := compileYAML(t, actionYAML)
	req := request("GET", "/w", "h")
	r := tbl.Route(req)
	got := map[string]int{}
	const total = 8000
	for range total {
		got[r.Cluster(req)]++
	}
	// 1:3 of 8000: blue ~2000 (sd ~39); bounds are 10 sd wide.
	if got["none"] != 0 || got["blue"] < 1610 || got["blue"] > 2390 || got["blue"]+got["green"] != total {
		t.Fatalf("picks %v", got)
	}
}

func TestDirectResponseAndRedirect(t *testing.T) {
	tbl := compileYAML(t, actionYAML)
	if st, body, ok := tbl.Route(request("GET", "/health", "h")).DirectResponse(); !ok || st != 200 || body != "ok\n" {
		t.Fatalf("direct response %d %q %v", st, body, ok)
	}
	if _, _, ok := tbl.Route(request("GET", "/plain", "h")).DirectResponse(); ok {
		t.Fatal("a route action answered directly")
	}
	tlsReq := request("GET", "/old/a/b?x=1", "shop.example:443")
	tlsReq.TLS = &tls.ConnectionState{}
	tests := []struct {
		name   string
		req    *http.Request
		loc    string
		status int
	}{
		{"https drops :80", request("GET", "/secure/x?y=2", "shop.example:80"), "https://shop.example/secure/x?y=2", 301},
		{"https keeps other ports", request("GET", "/secure", "shop.example:8080"), "https://shop.example:8080/secure", 301},
		{"host port prefix strip_query", tlsReq, "https://new.example:8443/new/a/b", 308},
		{"path_redirect with query", request("GET", "/moved?old=1", "h"), "http://h/here?x=1", 302},
	}
	for _, tt := range tests {
		loc, st, ok := tbl.Route(tt.req).Redirect(tt.req)
		if !ok || loc != tt.loc || st != tt.status {
			t.Errorf("%s: %q %d %v, want %q %d", tt.name, loc, st, ok, tt.loc, tt.status)
		}
	}
}

func TestHashKey(t *testing.T) {
	tbl := compileYAML(t, `
virtual_hosts:
- name: v
  domains: ["*"]
  routes:
  - name: multi
    match: {prefix: "/m"}
    route:
      cluster: c
      hash_policy:
      - header: {header_name: x-user}
      - cookie: {name: session}
      - query_parameter: {name: tenant}
      - connection_properties: {source_ip: true}
  - name: terminal
    match: {prefix: "/t"}
    route:
      cluster: c
      hash_policy:
      - {header: {header_name: x-user}, terminal: true}
      - connection_properties: {source_ip: true}
  - name: earlier
    match: {prefix: "/e"}
    route:
      cluster: c
      hash_policy:
      - header: {header_name: x-user}
      - {cookie: {name: absent}, terminal: true}
      - connection_properties: {source_ip: true}
  - {name: none, match: {prefix: "/"}, route: {cluster: c}}
`)
	remote := &net.TCPAddr{IP: net.ParseIP("10.1.2.3"), Port: 5555}
	fold := func(hs ...uint64) uint64 {
		h := hs[0]
		for _, n := range hs[1:] {
			h = (h<<1 | h>>63) ^ n
		}
		return h
	}
	x := xxhash.Sum64String
	tests := []struct {
		name string
		req  *http.Request
		want uint64
		ok   bool
	}{
		{"header alone", request("GET", "/m", "h", "x-user", "ann"), fold(x("ann"), x("10.1.2.3")), true},
		{"all four", request("GET", "/m?tenant=t%201", "h", "x-user", "ann", "cookie", "a=b; session=s1"),
			fold(x("ann"), x("s1"), x("t%201"), x("10.1.2.3")), true}, // the query value is hashed undecoded
		{"repeated header sorted", request("GET", "/m", "h", "x-user", "zed", "x-user", "ann", "cookie", "session="),
			fold(x("annzed"), x("10.1.2.3")), true}, // an empty cookie yields nothing
		{"terminal after an earlier hash", request("GET", "/e", "h", "x-user", "ann"), x("ann"), true},
		{"terminal stops", request("GET", "/t", "h", "x-user", "ann"), x("ann"), true},
		{"terminal without value goes on", request("GET", "/t", "h"), x("10.1.2.3"), true},
		{"no policy", request("GET", "/", "h"), 0, false},
	}
	for _, tt := range tests {
		h, ok := tbl.Route(tt.req).HashKey(tt.req, remote)
		if h != tt.want || ok != tt.ok {
			t.Errorf("%s: %x %v, want %x %v", tt.name, h, ok, tt.want, tt.ok)
		}
	}
	if _, ok := tbl.Route(request("GET", "/t", "h")).HashKey(request("GET", "/t", "h"), nil); ok {
		t.Error("a hash without any source")
	}
}
