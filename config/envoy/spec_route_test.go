package envoy

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/router"
)

// envoyRoutes is a route_config as Envoy's docs and sandboxes write it
// inline in http_connection_manager.
const envoyRoutes = `
name: local_route
internal_only_headers: [x-internal]
response_headers_to_add: [{header: {key: x-proxy, value: sluice}, append_action: OVERWRITE_IF_EXISTS_OR_ADD}]
validate_clusters: false
virtual_hosts:
- name: backend
  domains: ["*.example.com", "example.com"]
  retry_policy: {retry_on: "5xx,reset", num_retries: 3, per_try_timeout: 0.5s, retry_back_off: {base_interval: 0.1s}}
  routes:
  - name: health
    match: {path: /healthz}
    direct_response: {status: 200, body: {inline_string: "ok"}}
  - name: old
    match: {prefix: /old/}
    redirect: {prefix_rewrite: /new/, response_code: FOUND}
  - name: grpc
    match:
      prefix: /pkg.Svc/
      grpc: {}
      headers: [{name: x-tenant, string_match: {prefix: acme, ignore_case: true}}]
      query_parameters: [{name: debug, present_match: true}]
      runtime_fraction: {default_value: {numerator: 100, denominator: HUNDRED}, runtime_key: routing.grpc}
    route:
      weighted_clusters: {clusters: [{name: grpc-a, weight: 50}, {name: grpc-b, weight: 50}]}
      timeout: 0s
      hash_policy: [{header: {header_name: x-user}, terminal: true}, {connection_properties: {source_ip: true}}]
  - name: api
    match: {safe_regex: {regex: "/api/v[0-9]+/.*"}, case_sensitive: false}
    route:
      cluster: api
      regex_rewrite: {pattern: {regex: "^/api/v[0-9]+/"}, substitution: /}
      host_rewrite_literal: api.internal
      idle_timeout: 30s
      request_mirror_policies: [{cluster: shadow, runtime_fraction: {default_value: {numerator: 10}}}]
    request_headers_to_add: [{header: {key: x-route, value: api}, append: false}]
    metadata: {filter_metadata: {a: {b: c}}}
`

// translateRoutes runs a route_config through the loader's stages
// (precheck, protojson, check, translation) and sluice's decoder.
func translateRoutes(t *testing.T, src string) (*config.RouteConfiguration, []string, error) {
	t.Helper()
	errs := &config.Errors{File: "envoy.yaml"}
	tree, err := toJSONTree([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	var rc routev3.RouteConfiguration
	pc := &prechecker{errs: errs}
	if !pc.precheck(tree, rc.ProtoReflect().Descriptor(), "route_config") || errs.Err() != nil {
		return nil, nil, errs
	}
	js, _ := json.Marshal(tree)
	if err := protojson.Unmarshal(js, &rc); err != nil {
		t.Fatal(err)
	}
	tr := newTranslator(errs)
	tr.check(rc.ProtoReflect(), "route_config")
	if errs.Err() != nil {
		return nil, tr.warnings, errs
	}
	out, _ := json.Marshal(tr.message(rc.ProtoReflect(), "route_config", "route_config"))
	var n yaml.Node
	if err := yaml.Unmarshal(out, &n); err != nil {
		t.Fatal(err)
	}
	var sc config.RouteConfiguration
	(&config.Decoder{Errs: errs}).Decode("route_config", &n, &sc)
	return &sc, tr.warnings, errs.Err()
}

func TestRouteConfigTranslation(t *testing.T) {
	rc, warnings, err := translateRoutes(t, envoyRoutes)
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 3 {
		t.Errorf("warnings %q, want validate_clusters, runtime_key and metadata", warnings)
	}
	tbl, err := router.Compile(rc)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", "/healthz", nil)
	req.Host = "example.com"
	if st, body, ok := tbl.Route(req).DirectResponse(); !ok || st != 200 || body != "ok" {
		t.Fatalf("direct response %d %q", st, body)
	}
	req = httptest.NewRequest("GET", "/old/x", nil)
	req.Host = "www.example.com"
	if loc, st, _ := tbl.Route(req).Redirect(req); loc != "http://www.example.com/new/x" || st != 302 {
		t.Fatalf("redirect %q %d", loc, st)
	}
	req = httptest.NewRequest("POST", "/pkg.Svc/M?debug", nil)
	req.Host = "a.example.com"
	req.Header.Set("content-type", "application/grpc")
	req.Header.Set("x-tenant", "ACME-1")
	r := tbl.Route(req)
	if r == nil || r.Name() != "grpc" || r.Timeout() != 0 || r.Retry().NumRetries != 3 {
		t.Fatalf("grpc route %+v", r)
	}
	if c := r.Cluster(req); c != "grpc-a" && c != "grpc-b" {
		t.Fatalf("cluster %q", c)
	}
	req = httptest.NewRequest("GET", "/API/V2/items", nil)
	req.Host = "example.com"
	if r := tbl.Route(req); r != nil {
		t.Fatalf("case_sensitive applied to a regex (Envoy's does not): routed to %s", r.Name())
	}
	req = httptest.NewRequest("GET", "/api/v2/items", nil)
	req.Host = "example.com"
	r = tbl.Route(req)
	if r == nil || r.Name() != "api" {
		t.Fatalf("api route %v", r)
	}
	r.Rewrite(req)
	if req.URL.Path != "/items" {
		t.Fatalf("path %q", req.URL.Path)
	}
	if req.Host != "api.internal" || req.Header.Get("x-route") != "api" || len(r.Mirrors()) != 1 {
		t.Fatalf("host %q headers %v mirrors %v", req.Host, req.Header, r.Mirrors())
	}
	if d, ok := r.IdleTimeout(); !ok || d.String() != "30s" {
		t.Fatalf("idle %v", d)
	}
}

func TestRouteConfigRefusals(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"unsupported field", "virtual_hosts: [{name: v, domains: ['*'], hedge_policy: {hedge_on_per_try_timeout: true}}]",
			"route_config.virtual_hosts[0].hedge_policy: not supported by sluice"},
		{"unknown field", "virtual_hosts: [{name: v, domains: ['*'], routs: []}]",
			`route_config.virtual_hosts[0].routs: unknown field "routs"`},
		{"weighted cluster headers", "virtual_hosts: [{name: v, domains: ['*'], routes: [{match: {prefix: /}, route: {weighted_clusters: {clusters: [{name: a, weight: 1, request_headers_to_add: [{header: {key: a, value: b}}]}]}}}]}]",
			"weighted_clusters.clusters[0].request_headers_to_add: not supported by sluice"},
		{"sluice's own check", "virtual_hosts: [{name: v, domains: ['*'], routes: [{match: {safe_regex: {regex: '/a'}}, route: {cluster: a, prefix_rewrite: /b}}]}]",
			"prefix_rewrite cannot be used with a safe_regex match"},
		{"validation rule", "virtual_hosts: [{name: v, domains: ['*'], routes: [{match: {prefix: /}, direct_response: {status: 700}}]}]",
			"route_config.virtual_hosts[0].routes[0].direct_response.status: value must be inside range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := translateRoutes(t, tt.src)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}

// TestEnvoyConnectRoute: Envoy's CONNECT route shape loads and compiles to
// a route that matches CONNECT and tunnels.
func TestEnvoyConnectRoute(t *testing.T) {
	rc, _, err := translateRoutes(t, `
virtual_hosts:
- name: egress
  domains: ["*"]
  routes:
  - match: {connect_matcher: {}}
    route: {cluster: out, timeout: 0s, upgrade_configs: [{upgrade_type: CONNECT, connect_config: {}}]}
`)
	if err != nil {
		t.Fatal(err)
	}
	a := rc.VirtualHosts[0].Routes[0]
	if a.Match.ConnectMatcher == nil || len(a.Route.UpgradeConfigs) != 1 || a.Route.UpgradeConfigs[0].UpgradeType != "CONNECT" || !a.Route.UpgradeConfigs[0].On() {
		t.Fatalf("got %+v", a)
	}
	_, _, err = translateRoutes(t, `
virtual_hosts:
- name: egress
  domains: ["*"]
  routes:
  - match: {connect_matcher: {}}
    route: {cluster: out, upgrade_configs: [{upgrade_type: CONNECT, connect_config: {allow_post: true}}]}
`)
	if err == nil || !strings.Contains(err.Error(), "allow_post") {
		t.Fatalf("allow_post accepted: %v", err)
	}
}
