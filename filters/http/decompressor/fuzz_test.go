package decompressor

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"testing"

	"github.com/sluice-proxy/sluice/stats"
)

// FuzzInflate feeds request bodies labelled gzip or br to both inflaters,
// seeded with a real gzip stream, a brotli one (brotli(1)) and truncations: inflating must end with bytes or an error,
// never a panic, and the Content-Encoding parse must not panic either.
func FuzzInflate(f *testing.F) {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	io.WriteString(w, "hello from curl --data-binary, compressed")
	w.Close()
	f.Add(b.Bytes(), "gzip")
	f.Add(b.Bytes()[:10], "br, gzip")
	f.Add([]byte("not gzip"), "gzip , ")
	// "hello brotli" as brotli(1) -c (Google's encoder) writes it.
	f.Add([]byte{0x8f, 0x05, 0x80, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x20, 0x62, 0x72, 0x6f, 0x74, 0x6c, 0x69, 0x03}, "br")
	st := newDirStats(stats.New().Root())
	f.Fuzz(func(t *testing.T, body []byte, ce string) {
		h := http.Header{}
		h.Set("Content-Encoding", ce)
		lastCoding(h, Common{}, "gzip")
		lastCoding(h, Common{}, "br")
		for _, br := range []bool{false, true} {
			z := &inflater{src: io.NopCloser(bytes.NewReader(body)), st: &st, brotli: br}
			_, _ = io.Copy(io.Discard, io.LimitReader(z, 1<<20))
		}
	})
}
