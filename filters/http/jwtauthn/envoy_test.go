package jwtauthn_test

import (
	"fmt"
	"net"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	_ "github.com/sluice-proxy/sluice/filters/http/rbac"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
)

// envoyBootstrap is an Envoy config with jwt_authn (a remote JWKS) and
// the HTTP rbac filter deciding by a claim, as Envoy users write it.
const envoyBootstrap = `
static_resources:
  listeners:
    - name: front
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
                      routes: [{match: {prefix: "/"}, route: {cluster: app}}]
                http_filters:
                  - name: envoy.filters.http.jwt_authn
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication
                      providers:
                        issuer1:
                          issuer: https://issuer.test
                          audiences: [api]
                          remote_jwks:
                            http_uri: {uri: "%s", cluster: jwks, timeout: 2s}
                            cache_duration: 600s
                            retry_policy: {num_retries: 1}
                          forward_payload_header: x-jwt-payload
                          payload_in_metadata: jwt
                          claim_to_headers: [{header_name: x-sub, claim_name: sub}]
                      rules:
                        - match: {prefix: /}
                          requires: {provider_name: issuer1}
                  - name: envoy.filters.http.rbac
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC
                      rules:
                        action: ALLOW
                        policies:
                          alice-only:
                            permissions: [{url_path: {path: {prefix: /}}}]
                            principals:
                              - metadata: {filter: envoy.filters.http.jwt_authn, path: [{key: jwt}, {key: sub}], value: {string_match: {exact: alice}}}
                  - name: envoy.filters.http.router
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
    - name: app
      load_assignment:
        cluster_name: app
        endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: %s, port_value: %s}}}}]}]
    - name: jwks
      load_assignment:
        cluster_name: jwks
        endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: %s, port_value: %s}}}}]}]
`

// TestEnvoyConfig: both filters loaded from Envoy's v3 config behave as
// their sluice configs do.
func TestEnvoyConfig(t *testing.T) {
	k := newKey(t, jose.RS256, "k1")
	js := startJWKS(t, jwks(t, k))
	up := startUpstream(t)
	uh, up2, _ := net.SplitHostPort(up.Listener.Addr().String())
	jh, jp, _ := net.SplitHostPort(js.Listener.Addr().String())
	s := sluicetest.StartEnvoy(t, fmt.Sprintf(envoyBootstrap, js.URL, uh, up2, jh, jp))
	url := "http://" + s.Addr("front") + "/x"
	if code, body, _ := get(t, url, k.sign(t, claims(nil))); code != 200 || up.header("x-sub") != "alice" || up.header("x-jwt-payload") == "" {
		t.Fatalf("alice: %d %q, upstream x-sub %q", code, body, up.header("x-sub"))
	}
	if code, body, _ := get(t, url, k.sign(t, claims(map[string]any{"sub": "bob"}))); code != 403 || body != "RBAC: access denied" {
		t.Fatalf("bob: %d %q", code, body)
	}
	if code, body, _ := get(t, url, k.sign(t, claims(map[string]any{"aud": "x"}))); code != 403 || body != "Audiences in Jwt are not allowed" {
		t.Fatalf("wrong audience: %d %q", code, body)
	}
	if n := s.Counter("cluster.jwks.upstream_cx_total"); n != 1 {
		t.Fatalf("the JWKS fetch should connect through cluster jwks: upstream_cx_total %d", n)
	}
	if code, _, _ := get(t, url, ""); code != 401 {
		t.Fatalf("no token: %d", code)
	}
	if up.hits.Load() != 1 || s.Counter("http.ingress.rbac.denied") != 1 || s.Counter("http.ingress.jwt_authn.denied") != 2 {
		t.Fatalf("upstream %d, rbac.denied %d, jwt_authn.denied %d", up.hits.Load(), s.Counter("http.ingress.rbac.denied"), s.Counter("http.ingress.jwt_authn.denied"))
	}
}
