// Package headertometadata is Envoy's header_to_metadata HTTP filter
// (envoy.filters.http.header_to_metadata): request and response headers
// (and request cookies) become dynamic metadata, which the rbac filter's
// metadata principals, ext_authz's metadata_context and the access log's
// %DYNAMIC_METADATA% read.
package headertometadata

import (
	"encoding/base64"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"sync"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	httpfilter "github.com/sluice-proxy/sluice/filters/http"
	"github.com/sluice-proxy/sluice/router"
)

// Name is the filter's key in http_filters and typed_per_filter_config.
const Name = "header_to_metadata"

// EnvoyName is Envoy's filter name: the default metadata namespace, and a
// typed_per_filter_config key.
const EnvoyName = "envoy.filters.http.header_to_metadata"

// maxValue is Envoy's limit on a value written to metadata (8 KiB); longer
// ones are skipped.
const maxValue = 8 << 10

func init() {
	httpfilter.Register(httpfilter.Factory{
		Name:      Name,
		NewConfig: func() any { return &Config{} },
		Build: func(cfg any, env *httpfilter.Env) (httpfilter.Filter, error) {
			return New(cfg.(*Config), env), nil
		},
	})
}

// Filter is a built header_to_metadata filter.
type Filter struct {
	global   *rules
	perRoute httpfilter.PerRoute[*rules]
	log      *slog.Logger
	badRoute sync.Once
}

// New builds the filter from a validated config.
func New(c *Config, env *httpfilter.Env) *Filter {
	f := &Filter{global: compile(c), log: env.Log}
	f.perRoute.NewConfig = func() any { return &Config{} }
	f.perRoute.Build = func(cfg any) (*rules, error) { return compile(cfg.(*Config)), nil }
	return f
}

type rule struct {
	Rule
	present, missing *pair
}

type pair struct {
	KeyValuePair
	re  *regexp.Regexp
	sub string // in Go's form
}

type rules struct{ req, resp []rule }

func compile(c *Config) *rules {
	one := func(rs []Rule) []rule {
		out := make([]rule, len(rs))
		for i, r := range rs {
			out[i] = rule{Rule: r, present: compilePair(r.OnHeaderPresent), missing: compilePair(r.OnHeaderMissing)}
		}
		return out
	}
	return &rules{req: one(c.RequestRules), resp: one(c.ResponseRules)}
}

func compilePair(kv *KeyValuePair) *pair {
	if kv == nil {
		return nil
	}
	p := &pair{KeyValuePair: *kv}
	if p.MetadataNamespace == "" {
		p.MetadataNamespace = EnvoyName
	}
	if rw := kv.RegexValueRewrite; rw != nil {
		p.re = regexp.MustCompile(rw.Pattern.Regex) // validated at load
		p.sub = router.EnvoySubstitution(rw.Substitution)
	}
	return p
}

// Wrap applies the request rules before next and the response rules when
// the response's headers are written.
func (f *Filter) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rs, err := f.rulesFor(r)
		if err != nil {
			f.badRoute.Do(func() { f.log.Error("header_to_metadata: bad per-route config", "err", err) })
			http.Error(w, "header_to_metadata: bad per-route config", http.StatusInternalServerError)
			return
		}
		ctx := r.Context()
		changed := false
		for i := range rs.req {
			ru := &rs.req[i]
			v, ok := ru.read(r)
			for _, kv := range ru.apply(v, ok) {
				ctx, changed = httpfilter.WithMetadata(ctx, kv.ns, kv.key, kv.v), true
			}
			if ok && ru.Remove {
				r.Header.Del(ru.Header)
			}
		}
		if changed {
			r = r.WithContext(ctx)
		}
		if len(rs.resp) > 0 {
			if st := httpfilter.FromContext(ctx); st != nil {
				w = &respWriter{ResponseWriter: w, rules: rs.resp, st: st}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// read returns the rule's header (first value) or cookie.
func (ru *rule) read(r *http.Request) (string, bool) {
	if ru.Cookie != "" {
		c, err := r.Cookie(ru.Cookie)
		if err != nil {
			return "", false
		}
		return c.Value, true
	}
	vs := r.Header.Values(ru.Header)
	if len(vs) == 0 {
		return "", false
	}
	return vs[0], true
}

type entry struct {
	ns, key string
	v       any
}

// apply returns what the rule writes for a header value (or its absence).
func (ru *rule) apply(v string, present bool) []entry {
	p := ru.missing
	if present {
		p = ru.present
	}
	if p == nil {
		return nil
	}
	switch {
	case p.Value != "":
		v = p.Value
	case p.re != nil:
		v = p.re.ReplaceAllString(v, p.sub)
	}
	if v == "" || len(v) > maxValue {
		return nil
	}
	val, ok := p.convert(v)
	if !ok {
		return nil
	}
	return []entry{{p.MetadataNamespace, p.Key, val}}
}

// convert decodes and types a value as the pair says; false skips it, as
// Envoy does with a value that does not parse.
func (p *pair) convert(v string) (any, bool) {
	raw := []byte(v)
	if p.Encode == "BASE64" {
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return nil, false
		}
		raw = b
	}
	switch p.Type {
	case "NUMBER":
		n, err := strconv.ParseFloat(string(raw), 64)
		return n, err == nil
	case "PROTOBUF_VALUE":
		var pv structpb.Value
		if err := proto.Unmarshal(raw, &pv); err != nil {
			return nil, false
		}
		return pv.AsInterface(), true
	default:
		return string(raw), true
	}
}

// rulesFor picks the route's own config over the filter's.
func (f *Filter) rulesFor(r *http.Request) (*rules, error) {
	st := httpfilter.FromContext(r.Context())
	if st == nil || st.Route == nil {
		return f.global, nil
	}
	for _, key := range []string{Name, EnvoyName} {
		if raw := st.Route.PerFilterConfig(key); raw != nil {
			return f.perRoute.Get(key, raw)
		}
	}
	return f.global, nil
}

var _ httpfilter.Filter = (*Filter)(nil)
