package jwtauthn

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// maxToken bounds a token's length; a longer one is refused as bad format
// before any decoding, so a huge header costs nothing to reject.
const maxToken = 16 << 10

// cacheSize is Envoy's default jwt_cache_size.
const cacheSize = 100

// Envoy's status strings, the bodies of its 401/403 answers.
var (
	errMissing       = authErr("Jwt is missing")
	errBadFormat     = authErr("Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections")
	errHeaderBase64  = authErr("Jwt header is an invalid Base64url encoded")
	errPayloadBase64 = authErr("Jwt payload is an invalid Base64url encoded")
	errPayloadJSON   = authErr("Jwt payload is an invalid JSON")
	errExpired       = authErr("Jwt is expired")
	errNotYetValid   = authErr("Jwt not yet valid")
	errAudience      = authErr("Audiences in Jwt are not allowed")
	errIssuer        = authErr("Jwt issuer is not configured")
	errFetch         = authErr("Jwks remote fetch is failed")
	errNoKey         = authErr("Jwks doesn't have key to match kid or alg from Jwt")
	errVerify        = authErr("Jwt verification fails")
)

type authErr string

func (e authErr) Error() string { return string(e) }

// algs are the algorithms Envoy accepts; "none" is never among them.
var algs = []jose.SignatureAlgorithm{
	jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
	jose.ES256, jose.ES384, jose.ES512, jose.EdDSA, jose.HS256, jose.HS384, jose.HS512,
}

// provider is a compiled Provider.
type provider struct {
	name string
	cfg  *Provider
	keys keySource
	f    *Filter

	mu    sync.Mutex
	cache map[string]cached // verified tokens, until their exp
}

type cached struct {
	payload map[string]any
	raw     []byte
	exp     time.Time
}

// verified is one token that passed, with what it hands on.
type verified struct {
	p       *provider
	token   string
	from    string // header it came from ("" for a param or cookie)
	payload map[string]any
	raw     []byte
}

// extract finds the provider's token: its configured locations, else
// Envoy's defaults (Authorization: Bearer, then ?access_token=).
func (p *provider) extract(r *http.Request) (token, header string) {
	c := p.cfg
	if len(c.FromHeaders) == 0 && len(c.FromParams) == 0 && len(c.FromCookies) == 0 {
		if v, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && v != "" {
			return v, "Authorization"
		}
		return r.URL.Query().Get("access_token"), ""
	}
	for _, h := range c.FromHeaders {
		v := r.Header.Get(h.Name)
		if v == "" {
			continue
		}
		if h.ValuePrefix != "" {
			i := strings.Index(v, h.ValuePrefix)
			if i < 0 {
				continue
			}
			v = v[i+len(h.ValuePrefix):]
			if j := strings.IndexAny(v, ", "); j >= 0 {
				v = v[:j]
			}
		}
		if v != "" {
			return v, h.Name
		}
	}
	if len(c.FromParams) > 0 {
		q := r.URL.Query()
		for _, name := range c.FromParams {
			if v := q.Get(name); v != "" {
				return v, ""
			}
		}
	}
	for _, name := range c.FromCookies {
		if ck, err := r.Cookie(name); err == nil && ck.Value != "" {
			return ck.Value, ""
		}
	}
	return "", ""
}

// verify checks one request's token for the provider.
func (p *provider) verify(ctx context.Context, r *http.Request) (*verified, error) {
	token, header := p.extract(r)
	if token == "" {
		return nil, errMissing
	}
	payload, raw, err := p.check(ctx, token)
	if err != nil {
		return nil, err
	}
	return &verified{p: p, token: token, from: header, payload: payload, raw: raw}, nil
}

// check verifies a token string: format, issuer, times, audiences, then
// the signature with the provider's keys. A token verified before and not
// yet expired is answered from the cache.
func (p *provider) check(ctx context.Context, token string) (map[string]any, []byte, error) {
	now := time.Now()
	p.mu.Lock()
	if c, ok := p.cache[token]; ok && (c.exp.IsZero() || now.Before(c.exp.Add(p.cfg.skew()))) {
		p.mu.Unlock()
		p.f.stats.cacheHit.Inc()
		return c.payload, c.raw, nil
	}
	p.mu.Unlock()
	p.f.stats.cacheMiss.Inc()
	jws, raw, claims, err := parse(token)
	if err != nil {
		return nil, nil, err
	}
	if err := p.claims(claims, now); err != nil {
		return nil, nil, err
	}
	set, err := p.keys.keys(ctx)
	if err != nil || set == nil {
		return nil, nil, errFetch
	}
	if err := verifySig(jws, set); err != nil {
		return nil, nil, err
	}
	p.mu.Lock()
	if len(p.cache) >= cacheSize {
		clear(p.cache) // bounded; a full cache starts over
	}
	p.cache[token] = cached{payload: claims, raw: raw, exp: numTime(claims["exp"])}
	p.mu.Unlock()
	return claims, raw, nil
}

// parse checks the compact form and decodes header and payload.
func parse(token string) (*jose.JSONWebSignature, []byte, map[string]any, error) {
	if len(token) > maxToken || strings.Count(token, ".") != 2 {
		return nil, nil, nil, errBadFormat
	}
	parts := strings.SplitN(token, ".", 3)
	if _, err := base64.RawURLEncoding.DecodeString(parts[0]); err != nil {
		return nil, nil, nil, errHeaderBase64
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, nil, nil, errPayloadBase64
	}
	var claims map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&claims); err != nil || claims == nil {
		return nil, nil, nil, errPayloadJSON
	}
	jws, err := jose.ParseSigned(token, algs)
	if err != nil || len(jws.Signatures) != 1 {
		return nil, nil, nil, errVerify // alg none or unknown, bad header JSON
	}
	return jws, raw, claims, nil
}

// claims checks iss, exp, nbf and aud as Envoy does.
func (p *provider) claims(c map[string]any, now time.Time) error {
	if p.cfg.Issuer != "" && c["iss"] != p.cfg.Issuer {
		return errIssuer
	}
	skew := p.cfg.skew()
	if exp := numTime(c["exp"]); !exp.IsZero() && now.After(exp.Add(skew)) {
		return errExpired
	}
	if nbf := numTime(c["nbf"]); !nbf.IsZero() && now.Add(skew).Before(nbf) {
		return errNotYetValid
	}
	if len(p.cfg.Audiences) > 0 {
		var auds []string
		switch a := c["aud"].(type) {
		case string:
			auds = []string{a}
		case []any:
			for _, v := range a {
				if s, ok := v.(string); ok {
					auds = append(auds, s)
				}
			}
		}
		if !slices.ContainsFunc(auds, func(a string) bool { return slices.Contains(p.cfg.Audiences, a) }) {
			return errAudience
		}
	}
	return nil
}

func numTime(v any) time.Time {
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}
	}
	f, err := n.Float64()
	if err != nil || f <= 0 {
		return time.Time{}
	}
	return time.Unix(int64(f), 0)
}

// verifySig tries the keys matching the token's kid (all keys without
// one) whose type fits the algorithm.
func verifySig(jws *jose.JSONWebSignature, set *jose.JSONWebKeySet) error {
	h := jws.Signatures[0].Header
	tried := false
	for i := range set.Keys {
		k := &set.Keys[i]
		if h.KeyID != "" && k.KeyID != h.KeyID {
			continue
		}
		if k.Algorithm != "" && k.Algorithm != h.Algorithm {
			continue
		}
		tried = true
		if _, err := jws.Verify(k); err == nil {
			return nil
		}
	}
	if !tried {
		return errNoKey
	}
	return errVerify
}
