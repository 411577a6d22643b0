package router

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
)

const rateLimitYAML = `
virtual_hosts:
  - name: v
    domains: ["*"]
    rate_limits: [{actions: [{generic_key: {descriptor_value: vh}}]}]
    routes:
      - match: {prefix: /r}
        route:
          cluster: c
          rate_limits:
            - actions: [{request_headers: {header_name: x-user, descriptor_key: user}}, {destination_cluster: {}}]
            - actions: [{request_headers: {header_name: x-opt, descriptor_key: opt, skip_if_absent: true}}, {generic_key: {descriptor_value: g, descriptor_key: k}}]
            - actions: [{header_value_match: {descriptor_value: no-ua, expect_match: false, headers: [{name: user-agent, present_match: true}]}}]
            - stage: 2
              actions: [{remote_address: {}}, {source_cluster: {}}]
      - match: {prefix: /}
        route: {cluster: d}
`

// TestRateLimitDescriptors: Envoy's rules for building descriptors: a
// missing header drops its descriptor unless skip_if_absent, expect_match
// false inverts header_value_match, stages select, and the virtual host's
// rate_limits serve routes without their own.
func TestRateLimitDescriptors(t *testing.T) {
	tbl := compileYAML(t, rateLimitYAML)
	for _, tc := range []struct {
		name  string
		req   *http.Request
		stage uint32
		want  string
	}{
		{"all", request("GET", "/r", "h", "X-User", "u1", "X-Opt", "o"), 0, "[[{user u1} {destination_cluster c}] [{opt o} {k g}] [{header_match no-ua}]]"},
		{"no user, no opt", request("GET", "/r", "h"), 0, "[[{k g}] [{header_match no-ua}]]"},
		{"user agent", request("GET", "/r", "h", "User-Agent", "curl"), 0, "[[{k g}]]"},
		{"stage 2", request("GET", "/r", "h"), 2, "[[{remote_address 192.0.2.1} {source_cluster src}]]"},
		{"virtual host's", request("GET", "/x", "h"), 0, "[[{generic_key vh}]]"},
	} {
		rt := tbl.Route(tc.req)
		got := fmt.Sprint(rt.RateLimitDescriptors(tc.req, RateLimitRequest{Stage: tc.stage, SourceCluster: "src", Cluster: rt.Cluster(tc.req)}))
		if got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
	if _, err := decodeRC(`virtual_hosts: [{name: v, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: c, rate_limits: [{actions: [{generic_key: {descriptor_value: a}, remote_address: {}}]}]}}]}]`); err == nil {
		t.Fatal("two kinds in one action accepted")
	}
}

// FuzzRateLimitDescriptors: any request through every action kind never
// panics, and each descriptor has at most one entry per action.
func FuzzRateLimitDescriptors(f *testing.F) {
	tbl := compileYAML(f, rateLimitYAML)
	f.Add("/r", "u1", "curl/8.14.1", "127.0.0.1:5555")
	f.Add("/x", "", "", "[::1]:1")
	f.Fuzz(func(t *testing.T, path, user, ua, remote string) {
		req := &http.Request{Method: "GET", Host: "h", URL: &url.URL{Path: path}, RemoteAddr: remote,
			Header: http.Header{"X-User": {user}, "User-Agent": {ua}}}
		rt := tbl.Route(req)
		if rt == nil {
			return
		}
		for stage := uint32(0); stage < 3; stage++ {
			for _, d := range rt.RateLimitDescriptors(req, RateLimitRequest{Stage: stage}) {
				if len(d) == 0 || len(d) > 2 {
					t.Fatalf("descriptor %v", d)
				}
			}
		}
	})
}

// BenchmarkRateLimitDescriptors: the descriptors of a request matching a
// route with three rate limits.
func BenchmarkRateLimitDescriptors(b *testing.B) {
	tbl := compileYAML(b, rateLimitYAML)
	req := request("GET", "/r", "h", "X-User", "u1", "X-Opt", "o")
	rt := tbl.Route(req)
	in := RateLimitRequest{Cluster: "c"}
	b.ReportAllocs()
	for b.Loop() {
		if len(rt.RateLimitDescriptors(req, in)) != 3 {
			b.Fatal("descriptors")
		}
	}
}
