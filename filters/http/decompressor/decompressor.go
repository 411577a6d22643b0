// Package decompressor is Envoy's decompressor filter
// (envoy.filters.http.decompressor) with the gzip or brotli library: gzip
// (br) request bodies are inflated before they go upstream and responses
// before they go to the client, both streamed through compress/gzip (or
// github.com/andybalholm/brotli) so that memory does not grow with the
// body.
package decompressor

import (
	"compress/gzip"
	"io"
	"net/http"
	"strings"

	"github.com/andybalholm/brotli"

	"github.com/sluice-proxy/sluice/config"
	httpfilter "github.com/sluice-proxy/sluice/filters/http"
	"github.com/sluice-proxy/sluice/stats"
)

// Name is the filter's key in http_filters.
const Name = "decompressor"

// Config is Envoy's envoy.extensions.filters.http.decompressor.v3.Decompressor.
type Config struct {
	// DecompressorLibrary: gzip is the one sluice has.
	DecompressorLibrary Library `yaml:"decompressor_library" json:"decompressor_library"`
	// RequestDirectionConfig: request bodies, and whether to advertise
	// gzip upstream in Accept-Encoding (default true).
	RequestDirectionConfig Request `yaml:"request_direction_config" json:"request_direction_config"`
	// ResponseDirectionConfig: response bodies.
	ResponseDirectionConfig Direction `yaml:"response_direction_config" json:"response_direction_config"`
}

// Library is Envoy's TypedExtensionConfig for a decompressor library.
type Library struct {
	// Name is part of the stat names.
	Name string `yaml:"name" json:"name"`
	// Gzip is envoy.extensions.compression.gzip.decompressor.v3.Gzip; its
	// window_bits and chunk_size do not apply to Go's inflater.
	Gzip *struct{} `yaml:"gzip" json:"gzip,omitempty"`
	// Brotli is envoy.extensions.compression.brotli.decompressor.v3.Brotli;
	// its knobs do not apply to the streaming decoder either.
	Brotli *struct{} `yaml:"brotli" json:"brotli,omitempty"`
}

// Request is Envoy's RequestDirectionConfig.
type Request struct {
	CommonConfig Common `yaml:"common_config" json:"common_config"`
	// AdvertiseAcceptEncoding adds gzip to the upstream request's
	// Accept-Encoding; true when unset.
	AdvertiseAcceptEncoding *bool `yaml:"advertise_accept_encoding" json:"advertise_accept_encoding,omitempty"`
}

// Direction is Envoy's ResponseDirectionConfig.
type Direction struct {
	CommonConfig Common `yaml:"common_config" json:"common_config"`
}

// Common is Envoy's CommonDirectionConfig.
type Common struct {
	// Enabled is the RuntimeFeatureFlag's default_value; true when unset.
	Enabled *struct {
		DefaultValue bool   `yaml:"default_value" json:"default_value"`
		RuntimeKey   string `yaml:"runtime_key" json:"runtime_key,omitempty"`
	} `yaml:"enabled" json:"enabled,omitempty"`
	// IgnoreNoTransformHeader decompresses even under
	// Cache-Control: no-transform.
	IgnoreNoTransformHeader bool `yaml:"ignore_no_transform_header" json:"ignore_no_transform_header,omitempty"`
}

func (c Common) on() bool { return c.Enabled == nil || c.Enabled.DefaultValue }

// Validate requires the gzip library.
func (c *Config) Validate(path string, errs *config.Errors) {
	p := config.Join(path, "decompressor_library")
	if c.DecompressorLibrary.Name == "" {
		errs.Add(config.Join(p, "name"), "required")
	}
	if (c.DecompressorLibrary.Gzip == nil) == (c.DecompressorLibrary.Brotli == nil) {
		errs.Add(p, "exactly one library is required: gzip or brotli")
	}
}

func init() {
	httpfilter.Register(httpfilter.Factory{
		Name:      Name,
		NewConfig: func() any { return &Config{} },
		Build: func(cfg any, env *httpfilter.Env) (httpfilter.Filter, error) {
			return New(cfg.(*Config), env), nil
		},
	})
}

// Filter is a built decompressor filter.
type Filter struct {
	cfg     *Config
	coding  string // gzip or br: the Content-Encoding undone
	req, rs dirStats
}

// dirStats are one direction's counters.
type dirStats struct {
	decompressed, notDecompressed, compressedBytes, uncompressedBytes *stats.Counter
}

func newDirStats(sc *stats.Scope) dirStats {
	return dirStats{sc.Counter("decompressed"), sc.Counter("not_decompressed"),
		sc.Counter("total_compressed_bytes"), sc.Counter("total_uncompressed_bytes")}
}

// New builds the filter; stats are
// http.<stat_prefix>.decompressor.<library name>.{gzip,brotli}.{request,response}.*.
func New(c *Config, env *httpfilter.Env) *Filter {
	coding, lib := "gzip", "gzip"
	if c.DecompressorLibrary.Brotli != nil {
		coding, lib = "br", "brotli"
	}
	sc := env.Stats.Sub("decompressor").Sub(c.DecompressorLibrary.Name).Sub(lib)
	return &Filter{cfg: c, coding: coding, req: newDirStats(sc.Sub("request")), rs: newDirStats(sc.Sub("response"))}
}

// Wrap implements httpfilter.Filter.
func (f *Filter) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := f.cfg.RequestDirectionConfig
		if rc.CommonConfig.on() && r.Body != nil && r.Body != http.NoBody {
			if rest, ok := lastCoding(r.Header, rc.CommonConfig, f.coding); ok {
				f.req.decompressed.Inc()
				setEncoding(r.Header, rest)
				r.Header.Del("Content-Length")
				r.ContentLength = -1
				r.Body = &inflater{src: r.Body, st: &f.req, brotli: f.coding == "br"}
			} else {
				f.req.notDecompressed.Inc()
			}
		}
		if !f.cfg.ResponseDirectionConfig.CommonConfig.on() {
			next.ServeHTTP(w, r)
			return
		}
		if rc.AdvertiseAcceptEncoding == nil || *rc.AdvertiseAcceptEncoding {
			if ae := r.Header.Get("Accept-Encoding"); ae == "" {
				r.Header.Set("Accept-Encoding", f.coding)
			} else if !strings.Contains(strings.ToLower(ae), f.coding) {
				r.Header.Set("Accept-Encoding", ae+", "+f.coding)
			}
		}
		dw := &responseWriter{ResponseWriter: w, f: f}
		defer dw.close()
		next.ServeHTTP(dw, r)
	})
}

// lastCoding reports whether coding is the last one applied (the first to
// undo), and the Content-Encoding left once it is undone.
func lastCoding(h http.Header, c Common, coding string) (rest string, ok bool) {
	ce := h.Get("Content-Encoding")
	if ce == "" || (!c.IgnoreNoTransformHeader && strings.Contains(strings.ToLower(h.Get("Cache-Control")), "no-transform")) {
		return "", false
	}
	i := strings.LastIndexByte(ce, ',')
	if !strings.EqualFold(strings.TrimSpace(ce[i+1:]), coding) {
		return "", false
	}
	if i < 0 {
		return "", true
	}
	return strings.TrimSpace(ce[:i]), true
}

func setEncoding(h http.Header, rest string) {
	if rest == "" {
		h.Del("Content-Encoding")
	} else {
		h.Set("Content-Encoding", rest)
	}
}

// inflater reads a gzip (or brotli) stream as its plain bytes, counting
// both.
type inflater struct {
	src    io.ReadCloser
	cnt    countReader
	zr     io.Reader
	brotli bool
	st     *dirStats
	err    error
}

type countReader struct {
	r io.Reader
	n uint64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += uint64(n)
	return n, err
}

func (z *inflater) Read(p []byte) (int, error) {
	if z.err != nil {
		return 0, z.err
	}
	if z.zr == nil {
		z.cnt.r = z.src
		if z.brotli {
			z.zr = brotli.NewReader(&z.cnt)
		} else {
			zr, err := gzip.NewReader(&z.cnt)
			if err != nil {
				z.err = err
				return 0, err
			}
			z.zr = zr
		}
	}
	n, err := z.zr.Read(p)
	z.st.uncompressedBytes.Add(uint64(n))
	if err != nil {
		z.st.compressedBytes.Add(z.cnt.n)
		z.cnt.n = 0
		z.err = err
	}
	return n, err
}

func (z *inflater) Close() error { return z.src.Close() }

var _ httpfilter.Filter = (*Filter)(nil)
