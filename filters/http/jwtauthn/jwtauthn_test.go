package jwtauthn_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/sluice-proxy/sluice/internal/poll"
)

// localFilter is a jwt_authn config with one provider on an inline JWKS:
// /api requires it, /open allows a missing token.
func localFilter(doc string) string {
	return fmt.Sprintf(`- jwt_authn:
    providers:
      p:
        issuer: https://issuer.test
        audiences: [api]
        local_jwks: {inline_string: '%s'}
        forward_payload_header: x-jwt-payload
        claim_to_headers: [{header_name: x-sub, claim_name: sub}, {header_name: x-team, claim_name: org.team}]
    rules:
      - match: {prefix: /api}
        requires: {provider_name: p}
      - match: {prefix: /open}
        requires: {requires_any: {requirements: [{provider_name: p}, {allow_missing: {}}]}}`, doc)
}

// TestAlgorithms: RS256, PS256, ES256, EdDSA and HS256 tokens verify
// against an inline JWKS; the upstream sees the payload and claim headers
// and not the token (forward: false).
func TestAlgorithms(t *testing.T) {
	var ks []*key
	for i, alg := range []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.ES256, jose.EdDSA, jose.HS256} {
		ks = append(ks, newKey(t, alg, fmt.Sprintf("k%d", i)))
	}
	up := startUpstream(t)
	s := startSluice(t, up.URL, localFilter(jwks(t, ks...)), "")
	for _, k := range ks {
		tok := k.sign(t, claims(map[string]any{"org": map[string]any{"team": "blue"}}))
		code, body, _ := get(t, "http://"+s.Addr("l")+"/api/x", tok)
		if code != 200 || body != "upstream /api/x" {
			t.Fatalf("%s: %d %q", k.alg, code, body)
		}
		if up.header("x-sub") != "alice" || up.header("x-team") != "blue" || up.header("Authorization") != "" {
			t.Fatalf("%s: upstream saw x-sub %q x-team %q authorization %q", k.alg, up.header("x-sub"), up.header("x-team"), up.header("Authorization"))
		}
		raw, err := base64.RawURLEncoding.DecodeString(up.header("x-jwt-payload"))
		var p map[string]any
		if err != nil || json.Unmarshal(raw, &p) != nil || p["sub"] != "alice" {
			t.Fatalf("%s: x-jwt-payload %q", k.alg, up.header("x-jwt-payload"))
		}
	}
	if got := s.Counter("http.ingress.jwt_authn.allowed"); got != uint64(len(ks)) {
		t.Fatalf("allowed %d", got)
	}
	// The same token again is a cache hit.
	tok := ks[0].sign(t, claims(nil))
	get(t, "http://"+s.Addr("l")+"/api/x", tok)
	get(t, "http://"+s.Addr("l")+"/api/x", tok)
	if s.Counter("http.ingress.jwt_authn.jwt_cache_hit") < 1 {
		t.Fatalf("no cache hit")
	}
}

// TestRejections: bad tokens are answered 401 (403 for the audience) with
// Envoy's body and WWW-Authenticate, and never reach the upstream; a
// missing token passes on the optional route.
func TestRejections(t *testing.T) {
	k := newKey(t, jose.RS256, "k1")
	other := newKey(t, jose.RS256, "k1") // same kid, another key
	up := startUpstream(t)
	s := startSluice(t, up.URL, localFilter(jwks(t, k)), "")
	b64 := base64.RawURLEncoding.EncodeToString
	nested := strings.Repeat(`{"a":`, 5000) + "1" + strings.Repeat("}", 5000)
	for _, tc := range []struct {
		name, path, token string
		code              int
		body              string
	}{
		{"missing", "/api", "", 401, "Jwt is missing"},
		{"expired", "/api", k.sign(t, claims(map[string]any{"exp": time.Now().Add(-time.Hour).Unix()})), 401, "Jwt is expired"},
		{"not yet valid", "/api", k.sign(t, claims(map[string]any{"nbf": time.Now().Add(time.Hour).Unix()})), 401, "Jwt not yet valid"},
		{"wrong audience", "/api", k.sign(t, claims(map[string]any{"aud": "other"})), 403, "Audiences in Jwt are not allowed"},
		{"wrong issuer", "/api", k.sign(t, claims(map[string]any{"iss": "https://evil.test"})), 401, "Jwt issuer is not configured"},
		{"wrong key", "/api", other.sign(t, claims(nil)), 401, "Jwt verification fails"},
		{"bad format", "/api", "abc.def", 401, "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections"},
		{"bad base64", "/api", "%%%." + b64([]byte(`{}`)) + ".sig", 401, "Jwt header is an invalid Base64url encoded"},
		{"alg none", "/api", b64([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + b64(mustJSON(claims(nil))) + ".", 401, "Jwt verification fails"},
		{"huge header", "/api", b64([]byte(`{"alg":"RS256","x":"`+strings.Repeat("a", 20000)+`"}`)) + "." + b64(mustJSON(claims(nil))) + ".c2ln", 401, "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections"},
		{"nested json", "/api", b64([]byte(`{"alg":"RS256"}`)) + "." + b64([]byte(nested)) + ".c2ln", 401, ""},
		{"invalid on optional", "/open", k.sign(t, claims(map[string]any{"exp": 1})), 401, "Jwt is expired"},
	} {
		code, body, auth := get(t, "http://"+s.Addr("l")+tc.path, tc.token)
		if code != tc.code || tc.body != "" && body != tc.body {
			t.Errorf("%s: %d %q, want %d %q", tc.name, code, body, tc.code, tc.body)
		}
		wantAuth := `Bearer realm="http://` + s.Addr("l") + tc.path + `"`
		if tc.name != "missing" {
			wantAuth += `, error="invalid_token"`
		}
		if auth != wantAuth {
			t.Errorf("%s: WWW-Authenticate %q, want %q", tc.name, auth, wantAuth)
		}
	}
	if up.hits.Load() != 0 {
		t.Fatalf("upstream reached %d times", up.hits.Load())
	}
	if code, body, _ := get(t, "http://"+s.Addr("l")+"/open/x", ""); code != 200 || body != "upstream /open/x" {
		t.Fatalf("optional route without a token: %d %q", code, body)
	}
	if code, _, _ := get(t, "http://"+s.Addr("l")+"/free", ""); code != 200 {
		t.Fatalf("route without a rule: %d", code)
	}
	if s.Counter("http.ingress.jwt_authn.denied") != 12 || s.Counter("http.ingress.jwt_authn.allowed") != 1 {
		t.Fatalf("denied %d allowed %d", s.Counter("http.ingress.jwt_authn.denied"), s.Counter("http.ingress.jwt_authn.allowed"))
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func remoteFilter(uri, timeout, cache string) string {
	return fmt.Sprintf(`- jwt_authn:
    providers:
      p:
        issuer: https://issuer.test
        remote_jwks:
          http_uri: {uri: "%s", cluster: jwks, timeout: %s}
          cache_duration: %s
        payload_in_metadata: jwt
    rules:
      - match: {prefix: /}
        requires: {provider_name: p}`, uri, timeout, cache)
}

// TestRemoteRotation: keys come from a real JWKS server; when it rotates
// to a new key, tokens of the new key pass once the cache expires and
// tokens of the old one stop passing.
func TestRemoteRotation(t *testing.T) {
	k1, k2 := newKey(t, jose.ES256, "k1"), newKey(t, jose.RS256, "k2")
	js := startJWKS(t, jwks(t, k1))
	up := startUpstream(t)
	s := startSluice(t, up.URL, remoteFilter(js.URL, "2s", "300ms"), "")
	url := "http://" + s.Addr("l") + "/x"
	t1 := k1.sign(t, claims(nil))
	if code, body, _ := get(t, url, t1); code != 200 {
		t.Fatalf("k1 token: %d %q", code, body)
	}
	if s.Counter("http.ingress.jwt_authn.jwks_fetch_success") != 1 {
		t.Fatalf("jwks_fetch_success %d", s.Counter("http.ingress.jwt_authn.jwks_fetch_success"))
	}
	js.set(jwks(t, k2))
	poll.Eventually(t, 10*time.Second, func() bool {
		code, _, _ := get(t, url, k2.sign(t, claims(nil)))
		return code == 200
	}, "token of the rotated key never accepted")
	// A fresh k1 token (not cached) is refused now.
	if code, body, _ := get(t, url, k1.sign(t, claims(map[string]any{"jti": "new"}))); code != 401 {
		t.Fatalf("old key after rotation: %d %q", code, body)
	}
}

// TestRemoteHangsOrGarbage: a JWKS server that hangs or answers garbage
// costs a request at most the fetch timeout: it is answered 401, not held.
func TestRemoteHangsOrGarbage(t *testing.T) {
	k := newKey(t, jose.RS256, "k1")
	js := startJWKS(t, jwks(t, k))
	js.hang.Store(true)
	up := startUpstream(t)
	s := startSluice(t, up.URL, remoteFilter(js.URL, "300ms", "1h"), "")
	url := "http://" + s.Addr("l") + "/x"
	code, body, _ := get(t, url, k.sign(t, claims(nil))) // the client waits 20s; the fetch gives up at 300ms
	if code != 401 || body != "Jwks remote fetch is failed" {
		t.Fatalf("hanging JWKS: %d %q", code, body)
	}
	s.WaitCounter("http.ingress.jwt_authn.jwks_fetch_failed", 1, 10*time.Second)
	js.hang.Store(false)
	js.set(`{"keys": [garbage`)
	if code, body, _ := get(t, url, k.sign(t, claims(nil))); code != 401 || body != "Jwks remote fetch is failed" {
		t.Fatalf("garbage JWKS: %d %q", code, body)
	}
	js.set(jwks(t, k))
	if code, body, _ := get(t, url, k.sign(t, claims(nil))); code != 200 {
		t.Fatalf("JWKS back: %d %q", code, body)
	}
	if up.hits.Load() != 1 {
		t.Fatalf("upstream hits %d", up.hits.Load())
	}
}

// TestPerRouteAndFile: a route picks a requirement from requirement_map by
// name or disables the filter; keys come from a local_jwks file; tokens
// come from a custom header with a prefix, a query parameter or a cookie.
func TestPerRouteAndFile(t *testing.T) {
	k := newKey(t, jose.EdDSA, "e1")
	file := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(file, []byte(jwks(t, k)), 0o600); err != nil {
		t.Fatal(err)
	}
	up := startUpstream(t)
	filter := fmt.Sprintf(`- jwt_authn:
    providers:
      p:
        local_jwks: {filename: %s}
        from_headers: [{name: x-token, value_prefix: "Token "}]
        from_params: [tok]
        from_cookies: [session]
        forward: true
    requirement_map:
      need: {provider_name: p}`, file)
	routes := `[{match: {prefix: "/public"}, route: {cluster: c}, typed_per_filter_config: {jwt_authn: {disabled: true}}},
  {match: {prefix: "/"}, route: {cluster: c}, typed_per_filter_config: {jwt_authn: {requirement_name: need}}}]`
	s := startSluice(t, up.URL, filter, routes)
	base := "http://" + s.Addr("l")
	tok := k.sign(t, claims(nil))
	if code, _, _ := get(t, base+"/public", ""); code != 200 {
		t.Fatalf("disabled route: %d", code)
	}
	if code, _, _ := get(t, base+"/x", ""); code != 401 {
		t.Fatalf("required route without a token: %d", code)
	}
	if code, _, _ := get(t, base+"/x?tok="+tok, ""); code != 200 {
		t.Fatalf("token in a param: %d", code)
	}
	// curl, a real client, with the token in the custom header and a cookie.
	for _, args := range [][]string{{"--cookie", "session=" + tok}, {"-H", "x-token: Token " + tok}} {
		out, err := exec.Command("curl", append([]string{"-s", "-o", "/dev/null", "-w", "%{http_code}", base + "/y"}, args...)...).Output()
		if err != nil || string(out) != "200" {
			t.Fatalf("curl %v: %s %v", args[0], out, err)
		}
	}
	if up.header("x-token") != "Token "+tok {
		t.Fatalf("forward: true should keep the header, upstream saw %q", up.header("x-token"))
	}
}

// TestConfigErrors: bad configs are refused with their path.
func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct{ filter, want string }{
		{"- jwt_authn: {providers: {}}", "providers: needs at least one provider"},
		{"- jwt_authn: {providers: {p: {issuer: x}}}", "providers.p: set exactly one of local_jwks, remote_jwks"},
		{"- jwt_authn: {providers: {p: {local_jwks: {inline_string: x}}}, rules: [{match: {prefix: /}, requires: {provider_name: q}}]}", `rules[0].requires.provider_name: unknown provider "q"`},
		{"- jwt_authn: {providers: {p: {remote_jwks: {http_uri: {uri: http://x}}}}}", "remote_jwks.http_uri.timeout"},
	} {
		_, err := loadConfig(sluiceConfig("127.0.0.1:1", tc.filter, ""))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.filter, err, tc.want)
		}
	}
}

// TestRetryAndRequiresAll: a JWKS server failing once is retried
// (retry_policy); requires_all needs both providers' tokens, each from its
// own header.
func TestRetryAndRequiresAll(t *testing.T) {
	k1, k2 := newKey(t, jose.ES256, "a"), newKey(t, jose.HS256, "b")
	js := startJWKS(t, jwks(t, k1))
	js.fail.Store(1)
	up := startUpstream(t)
	filter := fmt.Sprintf(`- jwt_authn:
    providers:
      remote:
        remote_jwks: {http_uri: {uri: "%s", cluster: jwks, timeout: 2s}, retry_policy: {num_retries: 1}, async_fetch: {}}
        from_headers: [{name: x-user}]
      local:
        local_jwks: {inline_string: '%s'}
        from_headers: [{name: x-service}]
    rules:
      - match: {prefix: /}
        requires: {requires_all: {requirements: [{provider_name: remote}, {provider_name: local}]}}`, js.URL, jwks(t, k2))
	s := startSluice(t, up.URL, filter, "")
	send := func(user, service string) int {
		req, _ := http.NewRequest("GET", "http://"+s.Addr("l")+"/", nil)
		if user != "" {
			req.Header.Set("x-user", user)
		}
		if service != "" {
			req.Header.Set("x-service", service)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	u, svc := k1.sign(t, claims(nil)), k2.sign(t, claims(nil))
	if code := send(u, svc); code != 200 {
		t.Fatalf("both tokens after one failed fetch: %d", code)
	}
	if js.hits.Load() != 2 || s.Counter("http.ingress.jwt_authn.jwks_fetch_success") != 1 {
		t.Fatalf("JWKS hits %d (want 2: a failure, a retry), fetch_success %d", js.hits.Load(), s.Counter("http.ingress.jwt_authn.jwks_fetch_success"))
	}
	if code := send(u, ""); code != 401 {
		t.Fatalf("user token only: %d", code)
	}
	if code := send("", svc); code != 401 {
		t.Fatalf("service token only: %d", code)
	}
}
