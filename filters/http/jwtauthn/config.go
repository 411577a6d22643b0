package jwtauthn

import (
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sluice-proxy/sluice/config"
)

// Config is Envoy's JwtAuthentication message.
type Config struct {
	Providers      map[string]*Provider    `yaml:"providers" json:"providers"`
	Rules          []*Rule                 `yaml:"rules" json:"rules,omitempty"`
	RequirementMap map[string]*Requirement `yaml:"requirement_map" json:"requirement_map,omitempty"`
}

// Provider is Envoy's JwtProvider: how a token is found and verified.
type Provider struct {
	Issuer               string           `yaml:"issuer" json:"issuer,omitempty"`
	Audiences            []string         `yaml:"audiences" json:"audiences,omitempty"`
	LocalJWKS            *DataSource      `yaml:"local_jwks" json:"local_jwks,omitempty"`
	RemoteJWKS           *RemoteJWKS      `yaml:"remote_jwks" json:"remote_jwks,omitempty"`
	FromHeaders          []HeaderLocation `yaml:"from_headers" json:"from_headers,omitempty"`
	FromParams           []string         `yaml:"from_params" json:"from_params,omitempty"`
	FromCookies          []string         `yaml:"from_cookies" json:"from_cookies,omitempty"`
	Forward              bool             `yaml:"forward" json:"forward,omitempty"`
	ForwardPayloadHeader string           `yaml:"forward_payload_header" json:"forward_payload_header,omitempty"`
	ClaimToHeaders       []ClaimToHeader  `yaml:"claim_to_headers" json:"claim_to_headers,omitempty"`
	PayloadInMetadata    string           `yaml:"payload_in_metadata" json:"payload_in_metadata,omitempty"`
	// ClockSkewSeconds is the leeway for exp and nbf; nil means Envoy's 60.
	ClockSkewSeconds *uint32 `yaml:"clock_skew_seconds" json:"clock_skew_seconds,omitempty"`
}

// DataSource is Envoy's DataSource: a file or an inline string.
type DataSource struct {
	Filename     string `yaml:"filename" json:"filename,omitempty" sluice:"path"`
	InlineString string `yaml:"inline_string" json:"inline_string,omitempty"`
}

// RemoteJWKS is where a JWKS is fetched and for how long it is kept.
type RemoteJWKS struct {
	HTTPURI       HTTPURI          `yaml:"http_uri" json:"http_uri"`
	CacheDuration *config.Duration `yaml:"cache_duration" json:"cache_duration,omitempty"`
	// AsyncFetch serves the expired keys while a refresh runs (the first
	// fetch is still made by the first request that needs keys).
	AsyncFetch  *struct{}    `yaml:"async_fetch" json:"async_fetch,omitempty"`
	RetryPolicy *RetryPolicy `yaml:"retry_policy" json:"retry_policy,omitempty"`
}

// HTTPURI is Envoy's HttpUri. The fetch connects through cluster (or, when
// no such cluster is configured, to the uri's host directly).
type HTTPURI struct {
	URI     string          `yaml:"uri" json:"uri"`
	Cluster string          `yaml:"cluster" json:"cluster"`
	Timeout config.Duration `yaml:"timeout" json:"timeout"`
}

// RetryPolicy is the part of Envoy's RetryPolicy a JWKS fetch uses.
type RetryPolicy struct {
	NumRetries uint32 `yaml:"num_retries" json:"num_retries"`
}

// HeaderLocation is a header a token is read from, after value_prefix.
type HeaderLocation struct {
	Name        string `yaml:"name" json:"name"`
	ValuePrefix string `yaml:"value_prefix" json:"value_prefix,omitempty"`
}

// ClaimToHeader copies a verified claim into a request header.
type ClaimToHeader struct {
	HeaderName string `yaml:"header_name" json:"header_name"`
	ClaimName  string `yaml:"claim_name" json:"claim_name"`
}

// Rule applies a requirement to the requests its match selects.
type Rule struct {
	Match    RouteMatch   `yaml:"match" json:"match"`
	Requires *Requirement `yaml:"requires" json:"requires,omitempty"`
}

// RouteMatch is the prefix or path part of Envoy's RouteMatch.
type RouteMatch struct {
	Prefix string `yaml:"prefix" json:"prefix,omitempty"`
	Path   string `yaml:"path" json:"path,omitempty"`
}

// Requirement is Envoy's JwtRequirement (exactly one field set).
type Requirement struct {
	ProviderName         string           `yaml:"provider_name" json:"provider_name,omitempty"`
	RequiresAny          *RequirementList `yaml:"requires_any" json:"requires_any,omitempty"`
	RequiresAll          *RequirementList `yaml:"requires_all" json:"requires_all,omitempty"`
	AllowMissing         *struct{}        `yaml:"allow_missing" json:"allow_missing,omitempty"`
	AllowMissingOrFailed *struct{}        `yaml:"allow_missing_or_failed" json:"allow_missing_or_failed,omitempty"`
}

// RequirementList is Envoy's JwtRequirementOrList / AndList.
type RequirementList struct {
	Requirements []*Requirement `yaml:"requirements" json:"requirements"`
}

// PerRoute is Envoy's PerRouteConfig, read from typed_per_filter_config.
type PerRoute struct {
	Disabled        bool   `yaml:"disabled" json:"disabled,omitempty"`
	RequirementName string `yaml:"requirement_name" json:"requirement_name,omitempty"`
}

// NewConfig returns an empty config.
func NewConfig() *Config { return &Config{} }

// skew returns the provider's clock skew.
func (p *Provider) skew() time.Duration {
	if p.ClockSkewSeconds == nil {
		return 60 * time.Second
	}
	return time.Duration(*p.ClockSkewSeconds) * time.Second
}

// Validate checks the config.
func (c *Config) Validate(path string, errs *config.Errors) {
	if len(c.Providers) == 0 {
		errs.Add(config.Join(path, "providers"), "needs at least one provider")
	}
	for name, p := range c.Providers {
		pp := config.Join(config.Join(path, "providers"), name)
		if p == nil {
			errs.Add(pp, "empty provider")
			continue
		}
		if (p.LocalJWKS == nil) == (p.RemoteJWKS == nil) {
			errs.Add(pp, "set exactly one of local_jwks, remote_jwks")
		}
		if l := p.LocalJWKS; l != nil && (l.Filename == "") == (l.InlineString == "") {
			errs.Add(config.Join(pp, "local_jwks"), "set exactly one of filename, inline_string")
		}
		if r := p.RemoteJWKS; r != nil {
			if r.HTTPURI.URI == "" {
				errs.Add(config.Join(pp, "remote_jwks.http_uri.uri"), "required")
			}
			if r.HTTPURI.Cluster == "" {
				errs.Add(config.Join(pp, "remote_jwks.http_uri.cluster"), "required")
			}
			if r.HTTPURI.Timeout <= 0 {
				errs.Add(config.Join(pp, "remote_jwks.http_uri.timeout"), "required, above 0")
			}
		}
		for i, h := range p.FromHeaders {
			if h.Name == "" {
				errs.Add(config.Join(config.Index(config.Join(pp, "from_headers"), i), "name"), "required")
			}
		}
	}
	for i, r := range c.Rules {
		rp := config.Index(config.Join(path, "rules"), i)
		if r == nil || (r.Match.Prefix == "") == (r.Match.Path == "") {
			errs.Add(config.Join(rp, "match"), "set exactly one of prefix, path")
			continue
		}
		c.validateReq(config.Join(rp, "requires"), r.Requires, errs, true)
	}
	for name, r := range c.RequirementMap {
		c.validateReq(config.Join(config.Join(path, "requirement_map"), name), r, errs, false)
	}
}

func (c *Config) validateReq(path string, r *Requirement, errs *config.Errors, nilOK bool) {
	if r == nil {
		if !nilOK {
			errs.Add(path, "empty requirement")
		}
		return
	}
	n := 0
	for _, b := range []bool{r.ProviderName != "", r.RequiresAny != nil, r.RequiresAll != nil, r.AllowMissing != nil, r.AllowMissingOrFailed != nil} {
		if b {
			n++
		}
	}
	if n != 1 {
		errs.Add(path, "set exactly one of provider_name, requires_any, requires_all, allow_missing, allow_missing_or_failed (%d set)", n)
	}
	if r.ProviderName != "" && c.Providers[r.ProviderName] == nil {
		errs.Add(config.Join(path, "provider_name"), "unknown provider %q", r.ProviderName)
	}
	for _, l := range []struct {
		name string
		l    *RequirementList
	}{{"requires_any", r.RequiresAny}, {"requires_all", r.RequiresAll}} {
		if l.l == nil {
			continue
		}
		if len(l.l.Requirements) < 2 {
			errs.Add(config.Join(path, l.name+".requirements"), "needs at least two requirements")
		}
		for i, sub := range l.l.Requirements {
			c.validateReq(config.Index(config.Join(path, l.name+".requirements"), i), sub, errs, false)
		}
	}
}

// DecodeNode accepts the mapping, or a plain string as the inline JWKS
// (what the Envoy loader gives after reading a DataSource at load).
func (d *DataSource) DecodeNode(dec *config.Decoder, path string, n *yaml.Node) {
	if n.Kind == yaml.ScalarNode {
		d.InlineString = n.Value
		return
	}
	type plain DataSource // without this method
	dec.Decode(path, n, (*plain)(d))
}
