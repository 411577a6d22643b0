package headertometadata

import (
	"net/http"

	httpfilter "github.com/sluice-proxy/sluice/filters/http"
)

// respWriter applies the response rules to the headers as they are
// written, into the stream's metadata (the access log reads it there).
type respWriter struct {
	http.ResponseWriter
	rules []rule
	st    *httpfilter.Stream
	done  bool
}

func (w *respWriter) WriteHeader(code int) {
	if !w.done && code >= 200 {
		w.done = true
		h := w.Header()
		for i := range w.rules {
			ru := &w.rules[i]
			vs := h.Values(ru.Header)
			v, ok := "", len(vs) > 0
			if ok {
				v = vs[0]
			}
			for _, e := range ru.apply(v, ok) {
				w.st.SetMetadata(e.ns, e.key, e.v)
			}
			if ok && ru.Remove {
				h.Del(ru.Header)
			}
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *respWriter) Write(b []byte) (int, error) {
	if !w.done {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Flush passes a flush on (streaming responses).
func (w *respWriter) Flush() {
	if !w.done {
		w.WriteHeader(http.StatusOK)
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *respWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
