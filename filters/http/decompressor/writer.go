package decompressor

import (
	"io"
	"net/http"
)

// responseWriter inflates a gzip response on its way to the client: the
// bytes written are fed to an inflater on a pipe read by one goroutine per
// such response, which ends with the response.
type responseWriter struct {
	http.ResponseWriter
	f           *Filter
	wroteHeader bool
	pw          *io.PipeWriter // nil: passing through
	done        chan struct{}
}

func (d *responseWriter) WriteHeader(code int) {
	if d.wroteHeader || code < 200 {
		d.ResponseWriter.WriteHeader(code)
		return
	}
	d.wroteHeader = true
	h := d.Header()
	rest, ok := lastCoding(h, d.f.cfg.ResponseDirectionConfig.CommonConfig, d.f.coding)
	if !ok {
		d.f.rs.notDecompressed.Inc()
		d.ResponseWriter.WriteHeader(code)
		return
	}
	d.f.rs.decompressed.Inc()
	setEncoding(h, rest)
	h.Del("Content-Length")
	d.ResponseWriter.WriteHeader(code)
	pr, pw := io.Pipe()
	d.pw, d.done = pw, make(chan struct{})
	go d.copy(pr)
}

// copy writes the inflated bytes to the client; an inflate error stops
// the pipe so that the writer side sees it.
func (d *responseWriter) copy(pr *io.PipeReader) {
	defer close(d.done)
	z := &inflater{src: pr, st: &d.f.rs, brotli: d.f.coding == "br"}
	_, err := io.Copy(d.ResponseWriter, z)
	pr.CloseWithError(err)
}

func (d *responseWriter) Write(p []byte) (int, error) {
	if !d.wroteHeader {
		d.WriteHeader(http.StatusOK)
	}
	if d.pw == nil {
		return d.ResponseWriter.Write(p)
	}
	return d.pw.Write(p)
}

// Unwrap lets http.ResponseController reach the connection manager's writer.
func (d *responseWriter) Unwrap() http.ResponseWriter { return d.ResponseWriter }

// close ends the pipe and waits for the copier, so that nothing writes to
// the client after the handler returned.
func (d *responseWriter) close() {
	if d.pw == nil {
		return
	}
	d.pw.Close()
	<-d.done
}
