// Package jwtauthn is the jwt_authn HTTP filter, after Envoy's
// envoy.filters.http.jwt_authn: providers say where a token is found and
// which keys (an inline or file JWKS, or one fetched over HTTP and cached)
// verify it; rules by path prefix or exact path, or a route's
// requirement_name, say which providers a request needs. A request that
// fails is answered 401 (403 for a wrong audience) with Envoy's body and
// WWW-Authenticate header and never reaches the upstream.
//
// Signatures and JWKS parsing are github.com/go-jose/go-jose/v4's; the
// filter only checks the compact form, the claims and the requirements.
// A verified payload is put in the request's metadata under
// envoy.filters.http.jwt_authn (payload_in_metadata) for rbac to read.
package jwtauthn

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"

	httpfilter "github.com/sluice-proxy/sluice/filters/http"
	"github.com/sluice-proxy/sluice/stats"
)

// Name is the filter's key in http_filters and typed_per_filter_config.
const Name = "jwt_authn"

// MetadataNamespace is where payload_in_metadata puts verified payloads.
const MetadataNamespace = "envoy.filters.http.jwt_authn"

func init() {
	httpfilter.Register(httpfilter.Factory{
		Name:      Name,
		NewConfig: func() any { return NewConfig() },
		Build:     func(cfg any, env *httpfilter.Env) (httpfilter.Filter, error) { return New(cfg.(*Config), env) },
	})
}

// Stats are Envoy's jwt_authn counters, under http.<stat_prefix>.jwt_authn.
type Stats struct {
	allowed, denied, fetchOK, fetchFail, cacheHit, cacheMiss *stats.Counter
}

// Filter is a built jwt_authn filter.
type Filter struct {
	stats     Stats
	providers map[string]*provider
	rules     []rule
	named     map[string]requirement
}

type rule struct {
	prefix, path string
	req          requirement // nil: no JWT needed
}

// New builds the filter; keys of local JWKS are parsed here.
func New(c *Config, env *httpfilter.Env) (*Filter, error) {
	sc := env.Stats.Sub("jwt_authn")
	f := &Filter{
		stats: Stats{allowed: sc.Counter("allowed"), denied: sc.Counter("denied"),
			fetchOK: sc.Counter("jwks_fetch_success"), fetchFail: sc.Counter("jwks_fetch_failed"),
			cacheHit: sc.Counter("jwt_cache_hit"), cacheMiss: sc.Counter("jwt_cache_miss")},
		providers: map[string]*provider{},
		named:     map[string]requirement{},
	}
	for name, pc := range c.Providers {
		p := &provider{name: name, cfg: pc, f: f, cache: map[string]cached{}}
		if pc.LocalJWKS != nil {
			ks, err := loadLocal(pc.LocalJWKS)
			if err != nil {
				return nil, fmt.Errorf("jwt_authn: provider %s: local_jwks: %w", name, err)
			}
			p.keys = ks
		} else {
			p.keys = newRemote(pc.RemoteJWKS, env.Clusters, f.stats.fetchOK, f.stats.fetchFail)
		}
		f.providers[name] = p
	}
	for _, r := range c.Rules {
		f.rules = append(f.rules, rule{prefix: r.Match.Prefix, path: r.Match.Path, req: f.compile(r.Requires)})
	}
	for name, r := range c.RequirementMap {
		f.named[name] = f.compile(r)
	}
	return f, nil
}

// Wrap checks each request's requirement before next.
func (f *Filter) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, ok := f.requirement(r)
		if !ok || req == nil {
			next.ServeHTTP(w, r)
			return
		}
		var out []*verified
		if err := req(r.Context(), r, &out); err != nil {
			f.stats.denied.Inc()
			deny(w, r, err)
			return
		}
		f.stats.allowed.Inc()
		next.ServeHTTP(w, f.apply(r, out))
	})
}

// requirement picks the request's requirement: the route's per-filter
// config first (disabled, or a requirement_name), else the first rule
// whose match fits. ok is false when the filter is disabled for the route.
func (f *Filter) requirement(r *http.Request) (requirement, bool) {
	if st := httpfilter.FromContext(r.Context()); st != nil && st.Route != nil {
		v := st.Route.PerFilterConfig(Name)
		if v == nil { // keyed by Envoy's filter name
			v = st.Route.PerFilterConfig(MetadataNamespace)
		}
		if pr := perRoute(v); pr != nil {
			if pr.Disabled {
				return nil, false
			}
			if req, found := f.named[pr.RequirementName]; found {
				return req, true
			}
			return func(context.Context, *http.Request, *[]*verified) error { return errMissing }, true
		}
	}
	for _, ru := range f.rules {
		if ru.path != "" && r.URL.Path == ru.path || ru.prefix != "" && strings.HasPrefix(r.URL.Path, ru.prefix) {
			return ru.req, true
		}
	}
	return nil, true
}

// perRoute reads typed_per_filter_config's jwt_authn entry.
func perRoute(v any) *PerRoute {
	switch m := v.(type) {
	case *PerRoute:
		return m
	case map[string]any:
		pr := &PerRoute{}
		pr.Disabled, _ = m["disabled"].(bool)
		pr.RequirementName, _ = m["requirement_name"].(string)
		return pr
	}
	return nil
}

// apply hands the verified payloads on: forward, forward_payload_header,
// claim_to_headers and payload_in_metadata.
func (f *Filter) apply(r *http.Request, out []*verified) *http.Request {
	ctx := r.Context()
	for _, v := range out {
		c := v.p.cfg
		if !c.Forward && v.from != "" {
			r.Header.Del(v.from)
		}
		if c.ForwardPayloadHeader != "" {
			r.Header.Set(c.ForwardPayloadHeader, base64.RawURLEncoding.EncodeToString(v.raw))
		}
		for _, ch := range c.ClaimToHeaders {
			if s, ok := claimString(v.payload, ch.ClaimName); ok {
				r.Header.Set(ch.HeaderName, s)
			}
		}
		if c.PayloadInMetadata != "" {
			ctx = httpfilter.WithMetadata(ctx, MetadataNamespace, c.PayloadInMetadata, v.payload)
		}
	}
	if ctx != r.Context() {
		r = r.WithContext(ctx)
	}
	return r
}

// claimString finds a claim ("a.b" walks nested objects) as a header value.
func claimString(p map[string]any, name string) (string, bool) {
	var v any = p
	for _, part := range strings.Split(name, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return "", false
		}
		if v, ok = m[part]; !ok {
			return "", false
		}
	}
	switch x := v.(type) {
	case string:
		return x, true
	case bool, fmt.Stringer:
		return fmt.Sprint(x), true
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range x {
			parts = append(parts, fmt.Sprint(e))
		}
		return strings.Join(parts, ","), true
	}
	return "", false
}

// deny answers as Envoy: 401 (403 for audiences) with the status as body
// and a WWW-Authenticate naming the request URL.
func deny(w http.ResponseWriter, r *http.Request, err error) {
	code := http.StatusUnauthorized
	if err == errAudience {
		code = http.StatusForbidden
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	realm := fmt.Sprintf(`Bearer realm="%s://%s%s"`, scheme, r.Host, r.URL.Path)
	if err != errMissing {
		realm += `, error="invalid_token"`
	}
	w.Header().Set("WWW-Authenticate", realm)
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(err.Error()))
}
