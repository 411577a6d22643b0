package grpchttp1bridge

import (
	"net/http"
	"strconv"
	"strings"

	httpfilter "github.com/sluice-proxy/sluice/filters/http"
)

// holdWriter keeps the router's response (head, body up to maxBuffered,
// trailers) until the call ends, for answer to send in one piece.
type holdWriter struct {
	h       http.Header
	status  int
	body    []byte
	over    bool // the body passed maxBuffered
	unframe bool // drop the first message's 5-byte prefix
	skip    int  // prefix bytes dropped so far
}

func (x *holdWriter) Header() http.Header { return x.h }

func (x *holdWriter) WriteHeader(code int) {
	if x.status == 0 && code >= 200 {
		x.status = code
	}
}

func (x *holdWriter) Write(p []byte) (int, error) {
	if x.status == 0 {
		x.status = http.StatusOK
	}
	n := len(p)
	if x.unframe && x.skip < 5 {
		k := min(5-x.skip, len(p))
		x.skip += k
		p = p[k:]
	}
	if len(x.body)+len(p) > maxBuffered {
		x.over = true
		return n, nil
	}
	x.body = append(x.body, p...)
	return n, nil
}

// Flush is a no-op: the response goes out whole at the end.
func (x *holdWriter) Flush() {}

// answer writes the held response: grpc-status and grpc-message from the
// trailers (or a trailers-only head) as headers, 503 for a status other
// than 0, and a Content-Length so that the client knows it is complete.
func (x *holdWriter) answer(w http.ResponseWriter, env *httpfilter.Env) {
	if x.over {
		if env != nil && env.Stats != nil {
			env.Stats.Counter("rs_too_large").Inc()
		}
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte("Internal Server Error"))
		return
	}
	if x.status == 0 {
		x.status = http.StatusOK
	}
	tr := trailers(x.h)
	dst := w.Header()
	for k, v := range x.h {
		if k == "Trailer" || k == "Content-Length" || strings.HasPrefix(k, http.TrailerPrefix) || tr[k] != nil {
			continue
		}
		dst[k] = v
	}
	for _, k := range []string{"Grpc-Status", "Grpc-Message"} {
		if v := tr.Get(k); v != "" {
			dst.Set(k, v)
		}
	}
	if code := dst.Get("Grpc-Status"); code != "" && code != "0" {
		x.status = http.StatusServiceUnavailable
	}
	dst.Set("Content-Length", strconv.Itoa(len(x.body)))
	w.WriteHeader(x.status)
	w.Write(x.body)
}

// trailers returns what the router set as trailers: keys with
// http.TrailerPrefix and the names the Trailer header announced.
func trailers(h http.Header) http.Header {
	t := http.Header{}
	for k, v := range h {
		if name, ok := strings.CutPrefix(k, http.TrailerPrefix); ok {
			t[http.CanonicalHeaderKey(name)] = v
		}
	}
	for _, line := range h["Trailer"] {
		for _, name := range strings.Split(line, ",") {
			name = http.CanonicalHeaderKey(strings.TrimSpace(name))
			if v, ok := h[name]; ok {
				t[name] = v
			}
		}
	}
	return t
}
