package jwtauthn

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"strconv"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/sluice-proxy/sluice/stats"
)

// FuzzJWT runs arbitrary tokens through the whole verification path
// (format, base64, JSON, claims, key lookup, signature) of a provider with
// a real key: it must never panic, and only a token the key signed passes.
func FuzzJWT(f *testing.F) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: k, KeyID: "k"}}, nil)
	payload := []byte(`{"iss":"i","aud":["api"],"sub":"s","exp":` + strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10) + `}`)
	jws, _ := signer.Sign(payload)
	good, _ := jws.CompactSerialize()
	f.Add(good)
	f.Add("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")
	f.Add("a.b.c")
	f.Add("..")
	sc := stats.New().Root()
	fl := &Filter{stats: Stats{allowed: sc.Counter("a"), denied: sc.Counter("d"), fetchOK: sc.Counter("o"),
		fetchFail: sc.Counter("f"), cacheHit: sc.Counter("h"), cacheMiss: sc.Counter("m")}}
	p := &provider{name: "p", f: fl, cache: map[string]cached{},
		cfg:  &Provider{Issuer: "i", Audiences: []string{"api"}},
		keys: staticKeys{&jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &k.PublicKey, KeyID: "k", Algorithm: "ES256"}}}}}
	f.Fuzz(func(t *testing.T, token string) {
		payload, _, err := p.check(context.Background(), token)
		if err == nil && token != good {
			// Only signatures by k pass; ES256 signatures are random, so
			// another valid one is possible only with the key.
			if _, perr := jose.ParseSigned(token, algs); perr != nil || payload == nil {
				t.Fatalf("accepted %q", token)
			}
		}
	})
}
