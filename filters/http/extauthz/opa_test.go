package extauthz_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	_ "github.com/sluice-proxy/sluice/filters/http/extauthz"
	_ "github.com/sluice-proxy/sluice/filters/http/jwtauthn"
	_ "github.com/sluice-proxy/sluice/filters/httpconn"
	"github.com/sluice-proxy/sluice/internal/poll"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
	"github.com/sluice-proxy/sluice/internal/testenv"
)

const secret = "sluice-ext-authz-test-secret-32b"

// policy decides by path, by a claim of an HS256 token OPA verifies itself
// (io.jwt.decode_verify), by the route's context extensions, by the body
// and by the JWT payload jwt_authn put in the check's metadata_context.
const policy = `package envoy.authz

import rego.v1

claims := payload if {
	auth := input.attributes.request.http.headers.authorization
	startswith(auth, "Bearer ")
	[valid, _, payload] := io.jwt.decode_verify(substring(auth, 7, -1), {"secret": "` + secret + `"})
	valid
}

default decision := false

decision if input.parsed_path[0] == "public"

decision if {
	input.parsed_path[0] == "admin"
	claims.role == "admin"
}

decision if input.attributes.context_extensions.tier == "gold"

decision if {
	input.parsed_path[0] == "upload"
	not contains(input.attributes.request.http.body, "virus")
}

decision if {
	input.parsed_path[0] == "meta"
	input.attributes.metadata_context.filter_metadata["envoy.filters.http.jwt_authn"].jwt.role == "admin"
}

decision if {
	input.parsed_path[0] == "tenant"
	input.attributes.request.http.headers["x-tenant"] == "acme"
	input.attributes.request.http.headers["x-from-sluice"] == "yes"
	not input.attributes.request.http.headers["x-secret"]
}

decision if {
	input.parsed_path[0] == "mtls"
	input.attributes.source.principal == "spiffe://test/frontend"
	startswith(urlquery.decode(input.attributes.source.certificate), "-----BEGIN CERTIFICATE-----")
}

default user := "anonymous"

user := claims.sub

default status := 403

status := 401 if {
	input.parsed_path[0] == "admin"
	not claims
}

allow := {
	"allowed": decision,
	"headers": {"x-auth-user": user},
	"response_headers_to_add": {"x-authz-decided": "opa"},
	"http_status": status,
	"body": "denied by opa policy",
}
`

func hsToken(t *testing.T, key, sub, role string) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: jose.JSONWebKey{Key: []byte(key), KeyID: "h"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{"iss": "https://issuer.test", "sub": sub, "role": role, "exp": time.Now().Add(time.Hour).Unix()})
	jws, err := s.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := jws.CompactSerialize()
	return out
}

// seen is what the upstream received.
type seen struct {
	mu   sync.Mutex
	reqs []*http.Request
	body []string
}

func (s *seen) last(t *testing.T) (*http.Request, string) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.reqs) == 0 {
		t.Fatal("the upstream got nothing")
	}
	return s.reqs[len(s.reqs)-1], s.body[len(s.body)-1]
}

func (s *seen) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reqs)
}

func upstream(t *testing.T) (*httptest.Server, *seen) {
	sn := &seen{}
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		sn.mu.Lock()
		sn.reqs = append(sn.reqs, r)
		sn.body = append(sn.body, string(b))
		sn.mu.Unlock()
		_, _ = io.WriteString(w, "upstream")
	}))
	t.Cleanup(up.Close)
	return up, sn
}

// config is a sluice config with jwt_authn (payload in metadata on /meta)
// in front of ext_authz; service is the ext_authz service block.
func sluiceConfig(up, authzAddr, service string) string {
	jwks := fmt.Sprintf(`{"keys":[{"kty":"oct","kid":"h","alg":"HS256","k":"%s"}]}`, base64.RawURLEncoding.EncodeToString([]byte(secret)))
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
                routes:
                  - match: {prefix: /public/reroute, headers: [{name: x-auth-user, string_match: {exact: alice}}]}
                    direct_response: {status: 200, body: {inline_string: rerouted}}
                  - match: {prefix: /health}
                    route: {cluster: c}
                    typed_per_filter_config:
                      envoy.filters.http.ext_authz: {disabled: true}
                  - match: {prefix: /vip}
                    route: {cluster: c}
                    typed_per_filter_config:
                      envoy.filters.http.ext_authz: {check_settings: {context_extensions: {tier: gold}}}
                  - match: {prefix: /raw}
                    route: {cluster: c}
                    typed_per_filter_config:
                      ext_authz: {check_settings: {disable_request_body_buffering: true, context_extensions: {tier: gold}}}
                  - match: {prefix: "/"}
                    route: {cluster: c}
          http_filters:
            - jwt_authn:
                providers:
                  p:
                    issuer: https://issuer.test
                    local_jwks: {inline_string: '%s'}
                    payload_in_metadata: jwt
                    forward: true
                rules:
                  - match: {prefix: /meta}
                    requires: {provider_name: p}
            - ext_authz:
%s
            - router: {}
clusters:
  - name: c
    connect_timeout: 1s
    endpoints: ["%s"]
  - name: authz
    connect_timeout: 1s
    endpoints: ["%s"]
`, jwks, service, strings.TrimPrefix(up, "http://"), authzAddr)
}

const grpcService = `                grpc_service: {envoy_grpc: {cluster_name: authz}, timeout: 5s}
                with_request_body: {max_request_bytes: 1024}
                metadata_context_namespaces: [envoy.filters.http.jwt_authn]
                include_peer_certificate: true`

type call struct {
	method, path, token, body string
	hdr                       map[string]string
	code                      int
	user                      string // x-auth-user the upstream must get ("": not reached, "-": none)
}

func run(t *testing.T, base string, sn *seen, calls []call) {
	t.Helper()
	for i, c := range calls {
		req, _ := http.NewRequest(c.method, base+c.path, strings.NewReader(c.body))
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		for k, v := range c.hdr {
			req.Header.Set(k, v)
		}
		before := sn.count()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.code {
			t.Errorf("%d %s %s: %d %q, want %d", i, c.method, c.path, resp.StatusCode, b, c.code)
			continue
		}
		if c.user == "" {
			if sn.count() != before {
				t.Errorf("%d %s: a denied request reached the upstream", i, c.path)
			}
			if (c.code == 403 || c.code == 401) && string(b) != "denied by opa policy" {
				t.Errorf("%d %s: denial body %q", i, c.path, b)
			}
			continue
		}
		r, body := sn.last(t)
		if c.user == "-" {
			c.user = ""
		}
		if got := r.Header.Get("X-Auth-User"); got != c.user {
			t.Errorf("%d %s: upstream x-auth-user %q, want %q", i, c.path, got, c.user)
		}
		if body != c.body {
			t.Errorf("%d %s: upstream body %q, want %q", i, c.path, body, c.body)
		}
		if c.code == 200 && resp.Header.Get("X-Authz-Decided") != "opa" && !strings.HasPrefix(c.path, "/health") {
			t.Errorf("%d %s: client response lacks x-authz-decided: %v", i, c.path, resp.Header)
		}
	}
}

// TestOPAGRPC: sluice asks OPA (the gRPC Authorization service, a Rego
// policy) about each request; decisions by path, by a JWT claim OPA
// verifies, by context extensions, by the body and by jwt_authn's payload
// in the metadata context; per-route disabled; exact counters.
func TestOPAGRPC(t *testing.T) {
	opa := testenv.OPAAuthz(t, policy)
	up, sn := upstream(t)
	s := sluicetest.Start(t, sluiceConfig(up.URL, opa.GRPCAddr(), grpcService))
	base := "http://" + s.Addr("l")
	admin, user := hsToken(t, secret, "alice", "admin"), hsToken(t, secret, "bob", "user")
	forged := hsToken(t, "not-the-secret-not-the-secret-32", "mallory", "admin")
	big := strings.Repeat("x", 4096)
	run(t, base, sn, []call{
		{method: "GET", path: "/public/x", code: 200, user: "anonymous"},
		{method: "GET", path: "/admin/x", token: admin, code: 200, user: "alice"},
		{method: "GET", path: "/admin/x", token: user, code: 403},
		{method: "GET", path: "/admin/x", code: 401},
		{method: "GET", path: "/admin/x", token: forged, code: 401},
		{method: "GET", path: "/vip/lounge", code: 200, user: "anonymous"},
		{method: "GET", path: "/lounge", code: 403},
		{method: "GET", path: "/health", code: 200, user: "-"},
		{method: "POST", path: "/upload", body: "a fine file", code: 200, user: "anonymous"},
		{method: "POST", path: "/upload", body: "a virus inside", code: 403},
		{method: "POST", path: "/upload", body: big, code: 413},
		{method: "POST", path: "/raw/x", body: big, code: 200, user: "anonymous"},
		{method: "GET", path: "/meta/x", token: admin, code: 200, user: "alice"},
		{method: "GET", path: "/meta/x", token: user, code: 403},
	})
	for name, want := range map[string]uint64{
		"cluster.c.ext_authz.ok": 6, "cluster.c.ext_authz.denied": 6, "cluster.c.ext_authz.disabled": 1,
		"cluster.c.ext_authz.error": 0,
	} {
		if got := s.Counter(name); got != want {
			t.Errorf("%s = %d, want %d", name, got, want)
		}
	}
}

// TestClearRouteCache: with clear_route_cache the route is matched again
// after the service set x-auth-user, reaching a route that needs it; without
// it the request keeps the route matched before the check.
func TestClearRouteCache(t *testing.T) {
	opa := testenv.OPAAuthz(t, policy)
	up, sn := upstream(t)
	admin := hsToken(t, secret, "alice", "admin")
	for _, tc := range []struct {
		extra, want string
	}{
		{"\n                clear_route_cache: true", "rerouted"},
		{"", "upstream"},
	} {
		s := sluicetest.Start(t, sluiceConfig(up.URL, opa.GRPCAddr(), grpcService+tc.extra))
		req, _ := http.NewRequest("GET", "http://"+s.Addr("l")+"/public/reroute", nil)
		req.Header.Set("Authorization", "Bearer "+admin)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != tc.want {
			t.Fatalf("%q: %d %q, want %q", tc.extra, resp.StatusCode, b, tc.want)
		}
	}
	if sn.count() != 1 {
		t.Fatalf("upstream got %d", sn.count())
	}
}

// TestResponseFlag: a denied request is logged with Envoy's UAEX flag.
func TestResponseFlag(t *testing.T) {
	opa := testenv.OPAAuthz(t, policy)
	up, _ := upstream(t)
	logPath := filepath.Join(t.TempDir(), "access.log")
	cfg := strings.Replace(sluiceConfig(up.URL, opa.GRPCAddr(), grpcService), "stat_prefix: ingress",
		"stat_prefix: ingress\n          access_log: [{path: "+logPath+", format: \"%REQ(:PATH)% %RESPONSE_CODE% %RESPONSE_FLAGS%\\n\"}]", 1)
	s := sluicetest.Start(t, cfg)
	for _, p := range []string{"/public/a", "/private/b"} {
		resp, err := http.Get("http://" + s.Addr("l") + p)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	// Lines are written as each exchange ends: compare them as a set.
	want := "/private/b 403 UAEX\n/public/a 200 -"
	var got string
	poll.Eventually(t, 5*time.Second, func() bool {
		b, _ := os.ReadFile(logPath)
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		sort.Strings(lines)
		got = strings.Join(lines, "\n")
		return got == want
	}, "access log %q, want %q", got, want)
}
