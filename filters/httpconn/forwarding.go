package httpconn

import (
	"io"
	"net/http"
	"strings"

	"github.com/sluice-proxy/sluice/cluster/httppool"
)

// forward sends a request (not an Upgrade) to its route's cluster and
// copies the response back: what httputil.ReverseProxy did for it, without
// what CPU profiles under wrk and h2load blamed on the reverse proxy per
// request: a deep clone of the request and its header map, an httptrace
// hook set up by reflection, a header copy by Add, a flush timer. The
// request is the stream's own (the codec made it for this exchange), so
// its header map is edited in place; the response's header slices move to
// the writer without copying. Streaming responses (no length, or
// text/event-stream: gRPC, SSE) are flushed per write as the reverse proxy
// did; a response of known length is written as the buffer fills and once
// at its end. An upstream body that breaks off ends an HTTP/1 response by
// closing the connection (the writer sees the stream's flag) and an
// HTTP/2 stream with RST_STREAM (the http.ErrAbortHandler panic x/net's
// server turns into a reset, as the reverse proxy did). Upgrades keep the
// reverse proxy (its 101 tunnel).
func (m *Manager) forward(w http.ResponseWriter, out *http.Request) {
	u := *out.URL
	out.URL = &u
	m.direct(out)
	removeHopByHop(out.Header, true)
	if out.ContentLength == 0 {
		out.Body = nil
	}
	if out.Body != nil {
		defer out.Body.Close()
	}
	out.Close = false
	out = out.WithContext(httppool.WithInformational(out.Context(), func(code int, h http.Header) {
		dst := w.Header()
		for k, vs := range h {
			dst[k] = vs
		}
		w.WriteHeader(code)
		for k := range h {
			delete(dst, k)
		}
	}))
	resp, err := routerTransport{m}.RoundTrip(out)
	if err != nil {
		m.upstreamError(w, out, err)
		return
	}
	defer resp.Body.Close()
	removeHopByHop(resp.Header, false)
	dst := w.Header()
	for k, vs := range resp.Header {
		if have, ok := dst[k]; ok {
			dst[k] = append(have, vs...)
		} else {
			dst[k] = vs
		}
	}
	announced := len(resp.Trailer)
	if announced > 0 {
		names := make([]string, 0, announced)
		for k := range resp.Trailer {
			names = append(names, k)
		}
		dst["Trailer"] = []string{strings.Join(names, ", ")}
	}
	w.WriteHeader(resp.StatusCode)
	stream := resp.ContentLength == -1 || isEventStream(resp.Header)
	if stream {
		// The head goes to the client at once, as Envoy sends headers when
		// they arrive: a streamed body may take long to come (or wait on
		// the rest of the request, an upstream that answered early).
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
	}
	if err := copyBody(w, resp.Body, stream); err != nil {
		if out.ProtoMajor == 2 {
			resp.Body.Close()
			panic(http.ErrAbortHandler)
		}
		return // watchedBody marked an upstream failure; the writer closes
	}
	resp.Body.Close() // before the trailers: they are complete at the body's end
	if len(resp.Trailer) == 0 {
		return
	}
	for k, vs := range resp.Trailer {
		if announced == len(resp.Trailer) {
			dst[k] = vs
		} else {
			dst[http.TrailerPrefix+k] = vs
		}
	}
}

// copyBody copies an upstream body to the client through a pooled buffer,
// flushing after every write when stream is set.
func copyBody(w http.ResponseWriter, body io.Reader, stream bool) error {
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	buf := *bp
	fl, _ := w.(http.Flusher)
	for {
		n, rerr := body.Read(buf)
		if n > 0 {
			if _, err := w.Write(buf[:n]); err != nil {
				return err
			}
			if stream && fl != nil {
				fl.Flush()
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}

func isEventStream(h http.Header) bool {
	ct := h["Content-Type"]
	return len(ct) > 0 && strings.HasPrefix(ct[0], "text/event-stream")
}

// hopHeaders are RFC 9110's connection-specific fields, which a proxy
// does not forward (the reverse proxy's list).
var hopHeaders = []string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

// removeHopByHop deletes the hop-by-hop fields and those the Connection
// header names; a request's "TE: trailers" is kept (gRPC needs it).
func removeHopByHop(h http.Header, request bool) {
	trailers := false
	if request {
		for _, v := range h["Te"] {
			for t := range strings.SplitSeq(v, ",") {
				trailers = trailers || strings.EqualFold(strings.TrimSpace(t), "trailers")
			}
		}
	}
	for _, v := range h["Connection"] {
		for t := range strings.SplitSeq(v, ",") {
			// keep-alive and close are the usual tokens: neither needs a
			// (canonicalising, allocating) Del of its own.
			if t = strings.TrimSpace(t); t != "" && !strings.EqualFold(t, "keep-alive") && !strings.EqualFold(t, "close") {
				h.Del(t)
			}
		}
	}
	for _, k := range hopHeaders {
		delete(h, k)
	}
	if trailers {
		h["Te"] = []string{"trailers"}
	}
}
