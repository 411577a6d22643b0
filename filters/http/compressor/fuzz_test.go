package compressor

import (
	"net/http"
	"testing"

	httpfilter "github.com/sluice-proxy/sluice/filters/http"
	"github.com/sluice-proxy/sluice/stats"
)

// FuzzAcceptEncoding feeds Accept-Encoding values, seeded with what
// browsers and curl send: parsing any value must not panic.
func FuzzAcceptEncoding(f *testing.F) {
	for _, s := range []string{"gzip, deflate, br, zstd", "deflate, gzip", "br;q=1.0, gzip;q=0.8, *;q=0.1",
		"gzip;q=0", "identity", "*", ";;,,q=", "gzip;q=abc", "GZIP;Q=0.5"} {
		f.Add(s)
	}
	c := &Config{CompressorLibrary: Library{Name: "f", Gzip: &Gzip{}}}
	flt := New(c, &httpfilter.Env{Stats: stats.New().Root()})
	f.Fuzz(func(t *testing.T, ae string) {
		h := http.Header{}
		h.Set("Accept-Encoding", ae)
		flt.accepts(h.Values("Accept-Encoding"))
	})
}
