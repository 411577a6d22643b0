package envoy

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sluice-proxy/sluice/router"
)

// TestRouteFeatTranslation: the retry, buffer, attempt-count and
// virtual-cluster fields of an Envoy route_config load into sluice's.
func TestRouteFeatTranslation(t *testing.T) {
	rc, _, err := translateRoutes(t, `
request_mirror_policies: [{cluster: shadow-config}]
virtual_hosts:
- name: api
  domains: ["*"]
  per_request_buffer_limit_bytes: 2048
  include_request_attempt_count: true
  include_attempt_count_in_response: true
  include_is_timeout_retry_header: true
  require_tls: EXTERNAL_ONLY
  request_mirror_policies: [{cluster: shadow-vh}]
  virtual_clusters:
  - name: writes
    headers: [{name: ":method", string_match: {exact: POST}}, {name: ":path", string_match: {prefix: /api/}}]
  routes:
  - match: {prefix: /big/}
    per_request_buffer_limit_bytes: 65536
    request_body_buffer_limit: 131072
    route: {cluster: api, append_x_forwarded_host: true, host_rewrite_literal: in, cluster_not_found_response_code: NOT_FOUND}
  - match: {prefix: /}
    route:
      cluster: api
      retry_policy:
        retry_on: "retriable-headers,unavailable"
        retry_host_predicate:
        - name: envoy.retry_host_predicates.previous_hosts
          typed_config: {"@type": type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate}
        host_selection_retry_max_attempts: 3
        retriable_headers: [{name: x-upstream-retry, string_match: {exact: "yes"}}]
`)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := router.Compile(rc)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("POST", "/api/x", nil)
	r := tbl.Route(req)
	if l, ok := r.BufferLimit(); !ok || l != 2048 {
		t.Fatalf("buffer limit %d %v, want the virtual host's 2048", l, ok)
	}
	if reqC, respC := r.AttemptCount(); !reqC || !respC {
		t.Fatalf("attempt count %v %v", reqC, respC)
	}
	if vc := r.VirtualCluster(req); vc != "writes" {
		t.Fatalf("virtual cluster %q", vc)
	}
	if vc := r.VirtualCluster(httptest.NewRequest("GET", "/api/x", nil)); vc != "other" {
		t.Fatalf("virtual cluster of a GET %q, want other", vc)
	}
	if ms := r.Mirrors(); len(ms) != 1 || ms[0].Cluster != "shadow-vh" {
		t.Fatalf("mirrors %+v, want the virtual host's", ms)
	}
	if l, _ := tbl.Route(httptest.NewRequest("GET", "/big/x", nil)).BufferLimit(); l != 131072 {
		t.Fatalf("route buffer limit %d", l)
	}
	if loc, ok := tbl.TLSRedirect(httptest.NewRequest("GET", "http://a.example/x", nil)); !ok || loc != "https://a.example/x" {
		t.Fatalf("require_tls: %q %v", loc, ok)
	}
	if !r.TimeoutRetryHeader() {
		t.Fatal("include_is_timeout_retry_header lost")
	}
	pol := r.Retry()
	if !pol.AvoidPreviousHosts || pol.HostSelectionRetryMaxAttempts != 3 {
		t.Fatalf("retry_host_predicate %v, attempts %d", pol.AvoidPreviousHosts, pol.HostSelectionRetryMaxAttempts)
	}
	if !pol.RetriableResponse(200, http.Header{"X-Upstream-Retry": {"yes"}}) || pol.RetriableResponse(200, http.Header{"X-Upstream-Retry": {"no"}}) {
		t.Fatal("retriable_headers not applied")
	}
	if !pol.RetriableResponse(200, http.Header{"Grpc-Status": {"14"}}) || pol.RetriableResponse(200, http.Header{"Grpc-Status": {"13"}}) {
		t.Fatal("gRPC unavailable not applied")
	}
}
