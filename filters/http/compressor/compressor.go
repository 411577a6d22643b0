// Package compressor is Envoy's compressor filter
// (envoy.filters.http.compressor) with the gzip library: responses of the
// configured types are gzip-compressed for clients that accept it. It uses
// the standard library's compress/gzip with one pooled writer per level, so
// no dependency is added.
package compressor

import (
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"

	httpfilter "github.com/sluice-proxy/sluice/filters/http"
	"github.com/sluice-proxy/sluice/stats"
)

// Name is the filter's key in http_filters.
const Name = "compressor"

func init() {
	httpfilter.Register(httpfilter.Factory{
		Name:      Name,
		NewConfig: func() any { return &Config{} },
		Build: func(cfg any, env *httpfilter.Env) (httpfilter.Filter, error) {
			return New(cfg.(*Config), env), nil
		},
	})
}

// Filter is a built compressor filter.
type Filter struct {
	cfg      *Config
	rd       *ResponseDirection
	coding   string // gzip, zstd or br: the Content-Encoding (and stat prefix)
	enabled  bool
	minLen   int64
	types    []string
	pool     sync.Pool // encoder at the configured level
	perRoute httpfilter.PerRoute[*PerRoute]
	log      *slog.Logger
	badRoute sync.Once
	st       counters
}

// counters are Envoy's
// http.<prefix>.compressor.<name>.gzip[.response].* stats.
type counters struct {
	compressed, notCompressed, noAccept, identity, used, wildcard, notValid *stats.Counter
	tooSmall, etag, uncompressedBytes, compressedBytes                      *stats.Counter
}

// New builds the filter.
func New(c *Config, env *httpfilter.Env) *Filter {
	rd := c.ResponseDirectionConfig
	if rd == nil {
		rd = &ResponseDirection{}
	}
	f := &Filter{cfg: c, rd: rd, enabled: true, minLen: 30, types: rd.CommonConfig.ContentType}
	if e := rd.CommonConfig.Enabled; e != nil {
		f.enabled = e.DefaultValue
	}
	if m := rd.CommonConfig.MinContentLength; m != nil {
		f.minLen = int64(*m)
	}
	if len(f.types) == 0 {
		f.types = defaultTypes
	}
	f.coding, f.pool.New = newEncoders(&c.CompressorLibrary)
	f.log = env.Log
	f.perRoute.NewConfig = func() any { return &PerRoute{} }
	f.perRoute.Build = func(cfg any) (*PerRoute, error) { return cfg.(*PerRoute), nil }
	libPrefix := f.coding
	if f.coding == "br" {
		libPrefix = "brotli" // Envoy's brotli stat prefix
	}
	sc := env.Stats.Sub("compressor").Sub(c.CompressorLibrary.Name).Sub(libPrefix)
	if c.ResponseDirectionConfig != nil {
		sc = sc.Sub("response")
	}
	f.st = counters{
		compressed: sc.Counter("compressed"), notCompressed: sc.Counter("not_compressed"),
		noAccept: sc.Counter("no_accept_header"), identity: sc.Counter("header_identity"),
		used: sc.Counter("header_compressor_used"), wildcard: sc.Counter("header_wildcard"),
		notValid: sc.Counter("header_not_valid"), tooSmall: sc.Counter("content_length_too_small"),
		etag: sc.Counter("not_compressed_etag"), uncompressedBytes: sc.Counter("total_uncompressed_bytes"),
		compressedBytes: sc.Counter("total_compressed_bytes"),
	}
	return f
}

// Wrap implements httpfilter.Filter.
func (f *Filter) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !f.enabled || r.Method == http.MethodHead || f.disabledFor(r) {
			next.ServeHTTP(w, r)
			return
		}
		accepted := f.accepts(r.Header.Values("Accept-Encoding"))
		if f.rd.RemoveAcceptEncodingHeader {
			r.Header.Del("Accept-Encoding")
		}
		if !accepted {
			f.st.notCompressed.Inc()
			next.ServeHTTP(w, r)
			return
		}
		cw := &compressWriter{ResponseWriter: w, f: f}
		defer cw.close()
		next.ServeHTTP(cw, r)
	})
}

// accepts reads Accept-Encoding as Envoy's compressor does, counting what
// it found: the library's coding (or *) with a non-zero q-value is needed;
// anything else
// (q=0, other codings, garbage) but identity is header_not_valid.
func (f *Filter) accepts(values []string) bool {
	if len(values) == 0 {
		f.st.noAccept.Inc()
		return false
	}
	var gz, star, ident bool
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			coding = strings.ToLower(strings.TrimSpace(coding))
			q := 1.0
			if k, val, ok := strings.Cut(strings.TrimSpace(params), "="); ok && strings.TrimSpace(k) == "q" {
				n, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
				if err != nil {
					continue
				}
				q = n
			}
			switch coding {
			case f.coding:
				gz = q > 0
			case "*":
				star = q > 0
			case "identity":
				ident = true
			}
		}
	}
	switch {
	case gz:
		f.st.used.Inc()
		return true
	case star:
		f.st.wildcard.Inc()
		return true
	case ident:
		f.st.identity.Inc()
	default:
		f.st.notValid.Inc()
	}
	return false
}

// compressible decides from the response head whether to compress it.
func (f *Filter) compressible(status int, h http.Header) bool {
	for _, c := range f.rd.UncompressibleResponseCodes {
		if c == status {
			return false
		}
	}
	if status < 200 || status == http.StatusNoContent || status == http.StatusNotModified ||
		h.Get("Content-Encoding") != "" || strings.Contains(strings.ToLower(h.Get("Cache-Control")), "no-transform") {
		return false
	}
	if cl := h.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err == nil && n < f.minLen {
			f.st.tooSmall.Inc()
			return false
		}
	}
	if f.rd.DisableOnEtagHeader && h.Get("Etag") != "" {
		f.st.etag.Inc()
		return false
	}
	ct, _, _ := strings.Cut(h.Get("Content-Type"), ";")
	ct = strings.ToLower(strings.TrimSpace(ct))
	for _, t := range f.types {
		if ct == t {
			return true
		}
	}
	return false
}

var _ httpfilter.Filter = (*Filter)(nil)
