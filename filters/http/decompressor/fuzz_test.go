package decompressor

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"testing"

	"github.com/sluice-proxy/sluice/stats"
)

// FuzzInflate feeds request bodies labelled gzip, seeded with a real gzip
// stream and its truncations: inflating must end with bytes or an error,
// never a panic, and the Content-Encoding parse must not panic either.
func FuzzInflate(f *testing.F) {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	io.WriteString(w, "hello from curl --data-binary, compressed")
	w.Close()
	f.Add(b.Bytes(), "gzip")
	f.Add(b.Bytes()[:10], "br, gzip")
	f.Add([]byte("not gzip"), "gzip , ")
	st := newDirStats(stats.New().Root())
	f.Fuzz(func(t *testing.T, body []byte, ce string) {
		h := http.Header{}
		h.Set("Content-Encoding", ce)
		gzipLast(h, Common{})
		z := &inflater{src: io.NopCloser(bytes.NewReader(body)), st: &st}
		_, _ = io.Copy(io.Discard, io.LimitReader(z, 1<<20))
	})
}
