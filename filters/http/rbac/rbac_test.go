package httprbac_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"go.uber.org/goleak"

	"github.com/sluice-proxy/sluice/config"
	_ "github.com/sluice-proxy/sluice/filters/http/jwtauthn"
	_ "github.com/sluice-proxy/sluice/filters/http/rbac"
	_ "github.com/sluice-proxy/sluice/filters/httpconn"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
)

// TestMain fails the package's tests if a goroutine outlives them.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const filtersYAML = `
          http_filters:
            - jwt_authn:
                providers:
                  p:
                    issuer: https://issuer.test
                    local_jwks: {inline_string: '%s'}
                    payload_in_metadata: jwt
                rules:
                  - match: {prefix: /}
                    requires: {requires_any: {requirements: [{provider_name: p}, {allow_missing: {}}]}}
            - rbac:
                rules:
                  action: ALLOW
                  policies:
                    admins:
                      permissions:
                        - and_rules: {rules: [{url_path: {path: {prefix: /admin}}}, {header: {name: ":method", string_match: {exact: GET}}}]}
                      principals:
                        - metadata: {filter: envoy.filters.http.jwt_authn, path: [{key: jwt}, {key: role}], value: {string_match: {exact: admin}}}
                    public-read:
                      permissions:
                        - and_rules: {rules: [{url_path: {path: {prefix: /public}}}, {header: {name: ":method", string_match: {exact: GET}}}]}
                      principals: [{any: true}]
                    local-ops:
                      permissions: [{url_path: {path: {exact: /ops}}}]
                      principals:
                        - and_ids: {ids: [{direct_remote_ip: {address_prefix: 127.0.0.0, prefix_len: 8}}, {header: {name: x-ops, present_match: true}}]}
                    port:
                      permissions: [{and_rules: {rules: [{url_path: {path: {exact: /port}}}, {not_rule: {destination_port: 1}}]}}]
                      principals: [{any: true}]
                shadow_rules:
                  action: DENY
                  policies:
                    debug:
                      permissions: [{header: {name: x-debug, present_match: true}}]
                      principals: [{any: true}]
                shadow_rules_stat_prefix: shadow.
            - router: {}`

func sluiceConfig(up, jwks string) string {
	return fmt.Sprintf(`
listeners:
  - name: l
    address: 127.0.0.1:0
    filters:
      - http_connection_manager:
          stat_prefix: ingress
          route_config:
            virtual_hosts:
              - name: all
                domains: ["*"]
                routes: [{match: {prefix: "/"}, route: {cluster: c}}]
%s
clusters:
  - name: c
    connect_timeout: 1s
    endpoints: ["%s"]
`, fmt.Sprintf(filtersYAML, jwks), strings.TrimPrefix(up, "http://"))
}

// TestRBACByClaimAndPath: policies judge the path, the method, the JWT
// payload jwt_authn put in metadata, the peer address and a header; a
// refused request gets Envoy's 403 and never reaches the upstream; shadow
// rules only count.
func TestRBACByClaimAndPath(t *testing.T) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: k, KeyID: "k"}}, nil)
	token := func(role string) string {
		b, _ := json.Marshal(map[string]any{"iss": "https://issuer.test", "sub": "u", "role": role, "exp": time.Now().Add(time.Hour).Unix()})
		jws, _ := signer.Sign(b)
		s, _ := jws.CompactSerialize()
		return s
	}
	doc, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &k.PublicKey, KeyID: "k", Algorithm: "ES256"}}})
	var hits atomic.Int64
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = io.WriteString(w, "ok")
	}))
	defer up.Close()
	s := sluicetest.Start(t, sluiceConfig(up.URL, string(doc)))
	base := "http://" + s.Addr("l")
	for i, tc := range []struct {
		method, path, token string
		hdr                 map[string]string
		code                int
	}{
		{"GET", "/admin/users", token("admin"), nil, 200},
		{"GET", "/admin/users", token("user"), nil, 403},
		{"GET", "/admin/users", "", nil, 403},
		{"POST", "/admin/users", token("admin"), nil, 403},
		{"GET", "/public/x", "", map[string]string{"x-debug": "1"}, 200},
		{"DELETE", "/public/x", "", nil, 403},
		{"GET", "/ops", "", map[string]string{"x-ops": "yes"}, 200},
		{"GET", "/ops", "", nil, 403},
		{"GET", "/port", "", nil, 200},
		{"GET", "/elsewhere", token("admin"), nil, 403},
	} {
		req, _ := http.NewRequest(tc.method, base+tc.path, nil)
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		for k, v := range tc.hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.code {
			t.Errorf("%d %s %s: %d %q, want %d", i, tc.method, tc.path, resp.StatusCode, b, tc.code)
		}
		if tc.code == 403 && string(b) != "RBAC: access denied" {
			t.Errorf("%d: body %q", i, b)
		}
	}
	// curl, a real client: the admin token is allowed, a user's is not.
	for role, want := range map[string]string{"admin": "200", "user": "403"} {
		out, err := exec.Command("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer "+token(role), base+"/admin/x").Output()
		if err != nil || string(out) != want {
			t.Fatalf("curl as %s: %s %v", role, out, err)
		}
	}
	if hits.Load() != 5 {
		t.Fatalf("upstream hits %d, want 5", hits.Load())
	}
	for name, want := range map[string]uint64{
		"http.ingress.rbac.allowed": 5, "http.ingress.rbac.denied": 7,
		"http.ingress.rbac.shadow.shadow_denied": 1, "http.ingress.rbac.shadow.shadow_allowed": 11,
	} {
		if got := s.Counter(name); got != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}
}

// TestRBACConfigErrors: network-only permissions are refused in the HTTP
// filter, and HTTP-only ones in the network filter.
func TestRBACConfigErrors(t *testing.T) {
	bad := strings.Replace(sluiceConfig("127.0.0.1:1", "{}"), "[{url_path: {path: {exact: /ops}}}]", "[{sql: {table: t}}]", 1)
	if _, err := config.Parse("t.yaml", []byte(bad)); err == nil || !strings.Contains(err.Error(), "policies.local-ops: sql and zookeeper permissions are for the network rbac filter") {
		t.Fatalf("sql in HTTP rbac: %v", err)
	}
	network := `
listeners:
  - name: l
    address: 127.0.0.1:0
    filters:
      - rbac:
          stat_prefix: t
          rules: {policies: {p: {permissions: [{url_path: {path: {exact: /}}}], principals: [{any: true}]}}}
      - tcp_proxy: {stat_prefix: t, cluster: c}
clusters: [{name: c, endpoints: ["127.0.0.1:1"]}]
`
	if _, err := config.Parse("t.yaml", []byte(network)); err == nil || !strings.Contains(err.Error(), "need an HTTP request") {
		t.Fatalf("url_path in network rbac: %v", err)
	}
}
