package extauthz_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sluice-proxy/sluice/config/envoy"
	"github.com/sluice-proxy/sluice/filters/http/extauthz"
	"github.com/sluice-proxy/sluice/filters/httpconn"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

// envoyBootstrap is Envoy's documented gRPC ext_authz setup, with a route
// that turns the check off and one that sends context extensions.
const envoyBootstrap = `
static_resources:
  listeners:
  - name: l
    address: {socket_address: {address: 127.0.0.1, port_value: 0}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: {prefix: "/health"}
                route: {cluster: c}
                typed_per_filter_config:
                  envoy.filters.http.ext_authz:
                    "@type": type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute
                    disabled: true
              - match: {prefix: "/vip"}
                route: {cluster: c}
                typed_per_filter_config:
                  envoy.filters.http.ext_authz:
                    "@type": type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthzPerRoute
                    check_settings: {context_extensions: {tier: gold}}
              - match: {prefix: "/"}
                route: {cluster: c}
          http_filters:
          - name: envoy.filters.http.ext_authz
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz
              transport_api_version: V3
              grpc_service:
                envoy_grpc: {cluster_name: ext-authz}
                timeout: 2s
              status_on_error: {code: ServiceUnavailable}
              include_peer_certificate: true
              stat_prefix: opa
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: c
    connect_timeout: 1s
    type: STATIC
    load_assignment:
      cluster_name: c
      endpoints:
      - lb_endpoints:
        - endpoint: {address: {socket_address: {address: %s, port_value: %s}}}
  - name: ext-authz
    connect_timeout: 1s
    type: STATIC
    typed_extension_protocol_options:
      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
        explicit_http_config: {http2_protocol_options: {}}
    load_assignment:
      cluster_name: ext-authz
      endpoints:
      - lb_endpoints:
        - endpoint: {address: {socket_address: {address: %s, port_value: %s}}}
`

func TestEnvoyConfig(t *testing.T) {
	opa := testenv.OPAAuthz(t, policy)
	up, sn := upstream(t)
	uh, upPort, _ := net.SplitHostPort(strings.TrimPrefix(up.URL, "http://"))
	ah, aPort, _ := net.SplitHostPort(opa.GRPCAddr())
	s := sluicetest.StartEnvoy(t, fmt.Sprintf(envoyBootstrap, uh, upPort, ah, aPort))
	base := "http://" + s.Addr("l")
	for path, want := range map[string]int{"/public/a": 200, "/admin/a": 401, "/vip/a": 200, "/health": 200, "/other": 403} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("%s: %d, want %d", path, resp.StatusCode, want)
		}
	}
	if sn.count() != 3 {
		t.Errorf("upstream got %d requests, want 3", sn.count())
	}
	for name, want := range map[string]uint64{"cluster.c.ext_authz.opa.ok": 2, "cluster.c.ext_authz.opa.denied": 2, "cluster.c.ext_authz.opa.disabled": 1} {
		if got := s.Counter(name); got != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}
}

// TestEnvoyRefusals: what sluice does not do is refused with its path.
func TestEnvoyRefusals(t *testing.T) {
	for _, tc := range []struct{ from, to, want string }{
		{"envoy_grpc: {cluster_name: ext-authz}", "google_grpc: {target_uri: x, stat_prefix: y}", "grpc_service.google_grpc: not supported by sluice"},
		{"stat_prefix: opa", "stat_prefix: opa\n              filter_enabled: {default_value: {numerator: 1}}", "filter_enabled: not supported by sluice"},
		{"check_settings: {context_extensions: {tier: gold}}", "check_settings: {with_request_body: {max_request_bytes: 1}}", "check_settings.with_request_body: not supported by sluice"},
	} {
		b := strings.Replace(fmt.Sprintf(envoyBootstrap, "127.0.0.1", "1", "127.0.0.1", "2"), tc.from, tc.to, 1)
		_, _, err := envoy.Parse("envoy.yaml", []byte(b))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.to, err, tc.want)
		}
	}
}

// TestEnvoyHTTPService: Envoy's http_service example loads, with its
// allow lists and headers_to_add.
func TestEnvoyHTTPService(t *testing.T) {
	b := strings.Replace(fmt.Sprintf(envoyBootstrap, "127.0.0.1", "1", "127.0.0.1", "2"), `              grpc_service:
                envoy_grpc: {cluster_name: ext-authz}
                timeout: 2s`, `              http_service:
                server_uri: {uri: "http://ext-authz", cluster: ext-authz, timeout: 0.25s}
                path_prefix: /check
                authorization_request:
                  allowed_headers: {patterns: [{exact: x-tenant}, {prefix: x-b3-}]}
                  headers_to_add: [{key: x-from-envoy, value: "yes"}]
                authorization_response:
                  allowed_upstream_headers: {patterns: [{exact: x-auth-user}]}
                  allowed_client_headers: {patterns: [{exact: www-authenticate}]}
              with_request_body: {max_request_bytes: 1024, allow_partial_message: true, pack_as_bytes: true}
              failure_mode_allow: true
              failure_mode_allow_header_add: true
              metadata_context_namespaces: [envoy.filters.http.jwt_authn]`, 1)
	cfg, warnings, err := envoy.Parse("envoy.yaml", []byte(b))
	if err != nil {
		t.Fatalf("%v (warnings %v)", err, warnings)
	}
	if len(warnings) != 0 {
		t.Fatalf("warnings: %v", warnings)
	}
	l := cfg.Listeners[0]
	fs := l.Filters
	if len(fs) == 0 {
		fs = l.FilterChains[0].Filters
	}
	hcm := fs[0].Config.(*httpconn.Config)
	c := hcm.HTTPFilters[0].Config.(*extauthz.Config)
	h := c.HTTPService
	if h == nil || h.PathPrefix != "/check" || h.ServerURI.Cluster != "ext-authz" || h.ServerURI.Timeout.D() != 250*time.Millisecond ||
		len(h.AuthorizationRequest.AllowedHeaders.Patterns) != 2 || h.AuthorizationRequest.HeadersToAdd[0].Key != "x-from-envoy" ||
		*h.AuthorizationResponse.AllowedUpstreamHeaders.Patterns[0].Exact != "x-auth-user" ||
		!c.WithRequestBody.PackAsBytes || !c.FailureModeAllowHeaderAdd || c.MetadataContextNamespaces[0] != "envoy.filters.http.jwt_authn" {
		t.Fatalf("translated: %+v %+v", c, h)
	}
}
