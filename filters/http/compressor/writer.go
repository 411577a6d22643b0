package compressor

import (
	"net/http"
	"strings"
)

// compressWriter decides at the response head whether to compress and then
// sends the body through a pooled gzip writer.
type compressWriter struct {
	http.ResponseWriter
	f           *Filter
	wroteHeader bool
	gz          encoder // nil: passing through
	out         countWriter
}

// countWriter counts the compressed bytes on their way to the client.
type countWriter struct {
	w http.ResponseWriter
	n uint64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += uint64(n)
	return n, err
}

func (cw *compressWriter) WriteHeader(code int) {
	if cw.wroteHeader || code < 200 {
		cw.ResponseWriter.WriteHeader(code)
		return
	}
	cw.wroteHeader = true
	h := cw.Header()
	if !cw.f.compressible(code, h) {
		cw.f.st.notCompressed.Inc()
		cw.ResponseWriter.WriteHeader(code)
		return
	}
	cw.f.st.compressed.Inc()
	h.Del("Content-Length")
	h.Set("Content-Encoding", cw.f.coding)
	h.Add("Vary", "Accept-Encoding")
	if et := h.Get("Etag"); et != "" && !strings.HasPrefix(et, "W/") {
		h.Set("Etag", "W/"+et) // the bytes changed: only a weak validator holds
	}
	cw.out.w = cw.ResponseWriter
	cw.gz = cw.f.pool.Get().(encoder)
	cw.gz.Reset(&cw.out)
	cw.ResponseWriter.WriteHeader(code)
}

func (cw *compressWriter) Write(p []byte) (int, error) {
	if !cw.wroteHeader {
		if cw.Header().Get("Content-Type") == "" {
			cw.Header().Set("Content-Type", http.DetectContentType(p))
		}
		cw.WriteHeader(http.StatusOK)
	}
	if cw.gz == nil {
		return cw.ResponseWriter.Write(p)
	}
	cw.f.st.uncompressedBytes.Add(uint64(len(p)))
	return cw.gz.Write(p)
}

// Flush pushes what is compressed so far (streamed responses, SSE).
func (cw *compressWriter) Flush() {
	if cw.gz != nil {
		_ = cw.gz.Flush()
	}
	if fl, ok := cw.ResponseWriter.(http.Flusher); ok {
		fl.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection manager's writer.
func (cw *compressWriter) Unwrap() http.ResponseWriter { return cw.ResponseWriter }

// close ends the gzip stream and returns the writer to the pool.
func (cw *compressWriter) close() {
	if cw.gz == nil {
		return
	}
	_ = cw.gz.Close()
	cw.f.st.compressedBytes.Add(cw.out.n)
	cw.gz.Reset(nil)
	cw.f.pool.Put(cw.gz)
	cw.gz = nil
}
