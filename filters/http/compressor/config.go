package compressor

import (
	"compress/gzip"

	"github.com/sluice-proxy/sluice/config"
)

// Config is Envoy's envoy.extensions.filters.http.compressor.v3.Compressor
// (response direction).
type Config struct {
	// CompressorLibrary names the library and holds its config; gzip is
	// the one sluice has.
	CompressorLibrary Library `yaml:"compressor_library" json:"compressor_library"`
	// ResponseDirectionConfig says which responses are compressed; when
	// set, the stats get Envoy's "response." direction prefix.
	ResponseDirectionConfig *ResponseDirection `yaml:"response_direction_config" json:"response_direction_config,omitempty"`
}

// Library is Envoy's TypedExtensionConfig for a compressor library.
type Library struct {
	// Name is the extension's name; it is part of the stat names.
	Name string `yaml:"name" json:"name"`
	// Gzip is envoy.extensions.compression.gzip.compressor.v3.Gzip.
	Gzip *Gzip `yaml:"gzip" json:"gzip,omitempty"`
	// Zstd is envoy.extensions.compression.zstd.compressor.v3.Zstd.
	Zstd *Zstd `yaml:"zstd" json:"zstd,omitempty"`
	// Brotli is envoy.extensions.compression.brotli.compressor.v3.Brotli.
	Brotli *Brotli `yaml:"brotli" json:"brotli,omitempty"`
}

// Brotli is Envoy's brotli compressor config, served by
// github.com/andybalholm/brotli (a pure-Go port of Google's encoder):
// quality (0-11, Envoy's default 3) and window_bits (10-24, default 18)
// are honoured; its other knobs have no counterpart there.
type Brotli struct {
	Quality    *uint32 `yaml:"quality" json:"quality,omitempty"`
	WindowBits *uint32 `yaml:"window_bits" json:"window_bits,omitempty"`
}

// Zstd is Envoy's zstd compressor config, served by
// github.com/klauspost/compress/zstd, whose four speed levels the zstd
// compression_level (1-22) is mapped onto; 3 (zstd's default) when unset.
type Zstd struct {
	CompressionLevel *uint32 `yaml:"compression_level" json:"compression_level,omitempty"`
}

// Gzip is Envoy's gzip compressor config. compress/gzip has no memory level,
// window size or strategy knobs, so only the level is honoured.
type Gzip struct {
	// CompressionLevel: DEFAULT_COMPRESSION, BEST_SPEED, BEST_COMPRESSION,
	// or COMPRESSION_LEVEL_1 .. COMPRESSION_LEVEL_9.
	CompressionLevel string `yaml:"compression_level" json:"compression_level,omitempty"`
}

// ResponseDirection is Envoy's ResponseDirectionConfig.
type ResponseDirection struct {
	CommonConfig Common `yaml:"common_config" json:"common_config"`
	// DisableOnEtagHeader leaves responses with an ETag alone.
	DisableOnEtagHeader bool `yaml:"disable_on_etag_header" json:"disable_on_etag_header,omitempty"`
	// RemoveAcceptEncodingHeader drops Accept-Encoding before the request
	// goes upstream, so that the upstream does not compress itself.
	RemoveAcceptEncodingHeader bool `yaml:"remove_accept_encoding_header" json:"remove_accept_encoding_header,omitempty"`
	// UncompressibleResponseCodes are statuses never compressed.
	UncompressibleResponseCodes []int `yaml:"uncompressible_response_codes" json:"uncompressible_response_codes,omitempty"`
}

// Common is Envoy's CommonDirectionConfig.
type Common struct {
	// Enabled (default true) is Envoy's RuntimeFeatureFlag's default_value.
	Enabled *FeatureFlag `yaml:"enabled" json:"enabled,omitempty"`
	// MinContentLength: responses with a shorter Content-Length are sent
	// as they are; 30 when unset.
	MinContentLength *uint32 `yaml:"min_content_length" json:"min_content_length,omitempty"`
	// ContentType lists the media types compressed; Envoy's list of text,
	// JSON, JavaScript, XML and SVG types when empty.
	ContentType []string `yaml:"content_type" json:"content_type,omitempty"`
}

// FeatureFlag is Envoy's RuntimeFeatureFlag; sluice has no runtime.
type FeatureFlag struct {
	DefaultValue bool   `yaml:"default_value" json:"default_value"`
	RuntimeKey   string `yaml:"runtime_key" json:"runtime_key,omitempty"`
}

// defaultTypes is Envoy's default content_type list.
var defaultTypes = []string{
	"text/html", "text/plain", "text/css", "application/javascript", "application/x-javascript",
	"text/javascript", "text/x-javascript", "text/ecmascript", "text/js", "text/jscript", "text/x-js",
	"application/ecmascript", "application/x-json", "application/xml", "application/json",
	"image/svg+xml", "text/xml", "application/xhtml+xml",
}

var levels = map[string]int{
	"": gzip.DefaultCompression, "DEFAULT_COMPRESSION": gzip.DefaultCompression,
	"BEST_SPEED": gzip.BestSpeed, "BEST_COMPRESSION": gzip.BestCompression,
	"COMPRESSION_LEVEL_1": 1, "COMPRESSION_LEVEL_2": 2, "COMPRESSION_LEVEL_3": 3,
	"COMPRESSION_LEVEL_4": 4, "COMPRESSION_LEVEL_5": 5, "COMPRESSION_LEVEL_6": 6,
	"COMPRESSION_LEVEL_7": 7, "COMPRESSION_LEVEL_8": 8, "COMPRESSION_LEVEL_9": 9,
}

// Validate requires a gzip library with a known level.
func (c *Config) Validate(path string, errs *config.Errors) {
	p := config.Join(path, "compressor_library")
	if c.CompressorLibrary.Name == "" {
		errs.Add(config.Join(p, "name"), "required")
	}
	g, z, b := c.CompressorLibrary.Gzip, c.CompressorLibrary.Zstd, c.CompressorLibrary.Brotli
	n := 0
	for _, set := range []bool{g != nil, z != nil, b != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		errs.Add(p, "exactly one library is required: gzip, zstd or brotli")
		return
	}
	if b != nil {
		if b.Quality != nil && *b.Quality > 11 {
			errs.Add(config.Join(p, "brotli.quality"), "must be within [0, 11]")
		}
		if b.WindowBits != nil && (*b.WindowBits < 10 || *b.WindowBits > 24) {
			errs.Add(config.Join(p, "brotli.window_bits"), "must be within [10, 24]")
		}
		return
	}
	if z != nil {
		if z.CompressionLevel != nil && (*z.CompressionLevel < 1 || *z.CompressionLevel > 22) {
			errs.Add(config.Join(p, "zstd.compression_level"), "must be within [1, 22]")
		}
		return
	}
	if _, ok := levels[g.CompressionLevel]; !ok {
		errs.Add(config.Join(p, "gzip.compression_level"), "unknown level %q", g.CompressionLevel)
	}
}
