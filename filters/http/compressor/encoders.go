package compressor

import (
	"compress/gzip"
	"io"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
)

// encoder is what the gzip and zstd writers have in common; they are
// pooled and Reset onto each response.
type encoder interface {
	io.Writer
	Flush() error
	Close() error
	Reset(io.Writer)
}

// newEncoders returns the library's Content-Encoding token and a
// constructor for its writers. The config was validated.
func newEncoders(l *Library) (coding string, mk func() any) {
	if b := l.Brotli; b != nil {
		opts := brotli.WriterOptions{Quality: 3, LGWin: 18}
		if b.Quality != nil {
			opts.Quality = int(*b.Quality)
		}
		if b.WindowBits != nil {
			opts.LGWin = int(*b.WindowBits)
		}
		return "br", func() any { return brotli.NewWriterOptions(io.Discard, opts) }
	}
	if z := l.Zstd; z != nil {
		level := uint32(3)
		if z.CompressionLevel != nil {
			level = *z.CompressionLevel
		}
		opts := []zstd.EOption{
			zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(int(level))),
			// One response, one goroutine: no encoder goroutines to leak
			// or to share between responses.
			zstd.WithEncoderConcurrency(1),
		}
		return "zstd", func() any {
			e, _ := zstd.NewWriter(nil, opts...)
			return e
		}
	}
	level := levels[l.Gzip.CompressionLevel]
	return "gzip", func() any {
		w, _ := gzip.NewWriterLevel(io.Discard, level)
		return w
	}
}

var (
	_ encoder = (*gzip.Writer)(nil)
	_ encoder = (*zstd.Encoder)(nil)
	_ encoder = (*brotli.Writer)(nil)
)
