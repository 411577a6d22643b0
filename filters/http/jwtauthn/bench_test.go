package jwtauthn

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/sluice-proxy/sluice/stats"
)

// benchProvider is a provider with one ES256 key and a token it signed.
func benchProvider(b *testing.B) (*provider, string) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	s, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: k, KeyID: "k"}}, nil)
	c, _ := json.Marshal(map[string]any{"iss": "i", "aud": "api", "sub": "s", "exp": time.Now().Add(time.Hour).Unix()})
	jws, _ := s.Sign(c)
	tok, _ := jws.CompactSerialize()
	sc := stats.New().Root()
	f := &Filter{stats: Stats{cacheHit: sc.Counter("h"), cacheMiss: sc.Counter("m")}}
	return &provider{f: f, cache: map[string]cached{}, cfg: &Provider{Issuer: "i", Audiences: []string{"api"}},
		keys: staticKeys{&jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &k.PublicKey, KeyID: "k", Algorithm: "ES256"}}}}}, tok
}

// BenchmarkVerify: a token checked in full each time (the cache emptied).
func BenchmarkVerify(b *testing.B) {
	p, tok := benchProvider(b)
	b.ReportAllocs()
	for b.Loop() {
		clear(p.cache)
		if _, _, err := p.check(context.Background(), tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyCached: the same token again, answered from the cache.
func BenchmarkVerifyCached(b *testing.B) {
	p, tok := benchProvider(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := p.check(context.Background(), tok); err != nil {
			b.Fatal(err)
		}
	}
}
