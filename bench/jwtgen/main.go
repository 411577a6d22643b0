// Command jwtgen writes an ES256 key's JWKS to the file named by -jwks and
// prints a token signed by it (issuer https://bench.test, audience api,
// sub alice, valid for a day), for bench/http.sh's jwt_authn runs.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

func main() {
	out := flag.String("jwks", "jwks.json", "file the JWKS is written to")
	flag.Parse()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	doc, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &k.PublicKey, KeyID: "bench", Algorithm: "ES256"}}})
	if err := os.WriteFile(*out, doc, 0o644); err != nil {
		log.Fatal(err)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: k, KeyID: "bench"}}, nil)
	if err != nil {
		log.Fatal(err)
	}
	claims, _ := json.Marshal(map[string]any{"iss": "https://bench.test", "aud": "api", "sub": "alice",
		"exp": time.Now().Add(24 * time.Hour).Unix()})
	jws, err := s.Sign(claims)
	if err != nil {
		log.Fatal(err)
	}
	tok, _ := jws.CompactSerialize()
	fmt.Println(tok)
}
