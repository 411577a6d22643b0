package jwtauthn_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"go.uber.org/goleak"

	"github.com/sluice-proxy/sluice/config"
	_ "github.com/sluice-proxy/sluice/filters/http/jwtauthn"
	_ "github.com/sluice-proxy/sluice/filters/httpconn"
	"github.com/sluice-proxy/sluice/internal/sluicetest"
)

// TestMain fails the package's tests if a goroutine outlives them.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// key is a signing key and its public JWK.
type key struct {
	alg    jose.SignatureAlgorithm
	kid    string
	signer jose.Signer
	jwk    jose.JSONWebKey
}

func newKey(t testing.TB, alg jose.SignatureAlgorithm, kid string) *key {
	t.Helper()
	var priv, pub any
	switch alg {
	case jose.RS256, jose.PS256:
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		priv, pub = k, &k.PublicKey
	case jose.ES256:
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		priv, pub = k, &k.PublicKey
	case jose.EdDSA:
		p, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		priv, pub = k, p
	case jose.HS256:
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		priv, pub = b, b
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: jose.JSONWebKey{Key: priv, KeyID: kid}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	return &key{alg: alg, kid: kid, signer: s, jwk: jose.JSONWebKey{Key: pub, KeyID: kid, Algorithm: string(alg), Use: "sig"}}
}

// sign makes a compact token of claims.
func (k *key) sign(t testing.TB, claims map[string]any) string {
	t.Helper()
	b, _ := json.Marshal(claims)
	jws, err := k.signer.Sign(b)
	if err != nil {
		t.Fatal(err)
	}
	s, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// jwks renders keys as a JWKS document.
func jwks(t testing.TB, ks ...*key) string {
	t.Helper()
	set := jose.JSONWebKeySet{}
	for _, k := range ks {
		set.Keys = append(set.Keys, k.jwk)
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// claims are valid claims for issuer "https://issuer.test" and audience
// "api", for an hour.
func claims(extra map[string]any) map[string]any {
	c := map[string]any{"iss": "https://issuer.test", "aud": "api", "sub": "alice",
		"exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()}
	for k, v := range extra {
		c[k] = v
	}
	return c
}

// jwksServer is a real HTTP JWKS endpoint whose document can change (key
// rotation), hang or turn to garbage.
type jwksServer struct {
	*httptest.Server
	doc  atomic.Pointer[string]
	hang atomic.Bool
	fail atomic.Int64 // answer this many requests 503
	hits atomic.Int64
}

func startJWKS(t testing.TB, doc string) *jwksServer {
	t.Helper()
	s := &jwksServer{}
	s.doc.Store(&doc)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		if s.fail.Add(-1) >= 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		if s.hang.Load() {
			<-r.Context().Done() // until the fetcher gives up
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, *s.doc.Load())
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) set(doc string) { s.doc.Store(&doc) }

// upstream is a Go net/http server recording the last request's headers.
type upstream struct {
	*httptest.Server
	hits atomic.Int64
	last atomic.Pointer[http.Header]
}

func startUpstream(t testing.TB) *upstream {
	t.Helper()
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.hits.Add(1)
		h := r.Header.Clone()
		u.last.Store(&h)
		_, _ = io.WriteString(w, "upstream "+r.URL.Path)
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) header(name string) string {
	if h := u.last.Load(); h != nil {
		return h.Get(name)
	}
	return ""
}

// startSluice runs a listener with http_connection_manager whose
// http_filters are filters, routing everything to up; routes replaces the
// default route list.
func startSluice(t testing.TB, up, filters, routes string) *sluicetest.Sluice {
	t.Helper()
	return sluicetest.Start(t, sluiceConfig(up, filters, routes))
}

func sluiceConfig(up, filters, routes string) string {
	if routes == "" {
		routes = `[{match: {prefix: "/"}, route: {cluster: c}}]`
	}
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
                routes: %s
          http_filters:
%s
            - router: {}
clusters:
  - name: c
    connect_timeout: 1s
    endpoints: ["%s"]
`, routes, indent(filters, "            "), strings.TrimPrefix(up, "http://"))
}

func indent(s, pre string) string {
	lines := strings.Split(strings.Trim(s, "\n"), "\n")
	for i := range lines {
		lines[i] = pre + lines[i]
	}
	return strings.Join(lines, "\n")
}

// get sends a GET with an optional bearer token and returns status, body
// and the WWW-Authenticate header.
func get(t testing.TB, url, token string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	c := &http.Client{Timeout: 20 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header.Get("WWW-Authenticate")
}

func loadConfig(yaml string) (*config.Config, error) {
	return config.Parse("test.yaml", []byte(yaml))
}
