package httpconn

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	httpfilter "github.com/sluice-proxy/sluice/filters/http"
)

// h1Writer is the http.ResponseWriter of one HTTP/1.1 response: it frames
// the body by Content-Length, chunked encoding (with trailers) or, for an
// HTTP/1.0 client, the connection's close, and supports Flush and Hijack
// (Upgrade tunnels).
type h1Writer struct {
	// mu orders the response head with a 100 Continue written by the
	// goroutine that reads the request body (the upstream transport's).
	mu          sync.Mutex
	h           *h1conn
	req         *http.Request
	header      http.Header
	wroteHeader bool
	chunked     bool
	noBody      bool
	length      int64 // declared Content-Length, -1 none
	written     int64
	closeAfter  bool
	hijacked    bool
	err         error
	st          *httpfilter.Stream
}

func (w *h1Writer) setStream(st *httpfilter.Stream) { w.st = st }

// reset readies w, the connection's writer, for its next response,
// keeping the header map's storage (one writer and map per connection
// instead of per request). Nothing holds the writer past a request: the
// request body that could write 100 Continue is detached first.
func (w *h1Writer) reset(req *http.Request) {
	hdr := w.header
	if hdr == nil {
		hdr = make(http.Header)
	}
	clear(hdr)
	w.req, w.header = req, hdr
	w.wroteHeader, w.chunked, w.noBody, w.closeAfter, w.hijacked = false, false, false, false, false
	w.length, w.written, w.err, w.st = -1, 0, nil, nil
}

func (w *h1Writer) Header() http.Header { return w.header }

func (w *h1Writer) WriteHeader(code int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.wroteHeader || w.hijacked {
		return
	}
	bw := w.h.bw
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		// Informational: written at once; the final response follows.
		w.writeStatus(code)
		w.header.Write(bw)
		bw.WriteString("\r\n")
		w.err = bw.Flush()
		return
	}
	w.wroteHeader = true
	h := w.header
	w.noBody = w.req.Method == http.MethodHead || code == http.StatusNoContent || code == http.StatusNotModified
	if cl := h.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err == nil && n >= 0 {
			w.length = n
		} else {
			h.Del("Content-Length")
		}
	}
	switch {
	case code == http.StatusSwitchingProtocols, w.noBody, w.length >= 0:
	case w.req.ProtoMinor >= 1:
		w.chunked = true
		h.Set("Transfer-Encoding", "chunked")
	default:
		w.closeAfter = true // HTTP/1.0: the body ends with the connection
	}
	if !w.chunked {
		h.Del("Transfer-Encoding")
		h.Del("Trailer")
	}
	switch {
	case w.closeAfter || w.req.Close || w.h.draining.Load():
		h.Set("Connection", "close")
	case w.req.ProtoMinor == 0:
		h.Set("Connection", "keep-alive")
	}
	w.writeStatus(code)
	if err := h.Write(bw); err != nil {
		w.err = err
	}
	bw.WriteString("\r\n")
}

func (w *h1Writer) writeStatus(code int) {
	bw := w.h.bw
	bw.WriteString("HTTP/1.1 ")
	bw.WriteString(strconv.Itoa(code))
	bw.WriteByte(' ')
	bw.WriteString(http.StatusText(code))
	bw.WriteString("\r\n")
}

func (w *h1Writer) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.err != nil {
		return 0, w.err
	}
	if w.noBody || len(p) == 0 {
		return len(p), nil
	}
	if w.length >= 0 && w.written+int64(len(p)) > w.length {
		return 0, errors.New("http_connection_manager: response body longer than its Content-Length")
	}
	bw := w.h.bw
	if w.chunked {
		bw.WriteString(strconv.FormatInt(int64(len(p)), 16))
		bw.WriteString("\r\n")
	}
	n, err := bw.Write(p)
	if err == nil && w.chunked {
		_, err = bw.WriteString("\r\n")
	}
	w.written += int64(n)
	w.h.m.stats.CxTxBytes.Add(uint64(n))
	w.err = err
	return n, err
}

// Flush sends what is buffered.
func (w *h1Writer) Flush() {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.err == nil {
		w.err = w.h.bw.Flush()
	}
}

// Hijack hands the connection to an Upgrade tunnel.
func (w *h1Writer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.wroteHeader {
		return nil, nil, errors.New("http_connection_manager: hijack after the response head")
	}
	w.hijacked = true
	w.h.rc.idle = 0
	w.h.c.SetReadDeadline(time.Time{})
	return w.h.c, bufio.NewReadWriter(w.h.br, w.h.bw), nil
}

// finish ends the response: the head if the handler wrote nothing, the last
// chunk and trailers, the flush. False means the connection must close (a
// write failed, or the upstream body broke off and the client must see a
// truncated response rather than a complete one).
func (w *h1Writer) finish() bool {
	st := w.st
	broken := st != nil && st.Flags()&(httpfilter.UpstreamReset|httpfilter.UpstreamRequestTimeout) != 0 && w.wroteHeader
	if !w.wroteHeader {
		w.header.Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
	}
	if broken || (w.length >= 0 && w.written != w.length && !w.noBody) {
		w.h.bw.Flush()
		return false
	}
	if w.chunked && w.err == nil {
		bw := w.h.bw
		bw.WriteString("0\r\n")
		for k, vs := range w.header {
			name, isTrailer := strings.CutPrefix(k, http.TrailerPrefix)
			if !isTrailer && !declared(w.header, k) {
				continue
			}
			for _, v := range vs {
				bw.WriteString(name)
				bw.WriteString(": ")
				bw.WriteString(strings.NewReplacer("\r", " ", "\n", " ").Replace(v))
				bw.WriteString("\r\n")
			}
		}
		bw.WriteString("\r\n")
	}
	if w.err == nil {
		w.err = w.h.bw.Flush()
	}
	return w.err == nil
}

// declared reports whether k was announced in the Trailer header.
func declared(h http.Header, k string) bool {
	for _, v := range h["Trailer"] {
		for _, t := range strings.Split(v, ",") {
			if http.CanonicalHeaderKey(strings.TrimSpace(t)) == k {
				return true
			}
		}
	}
	return false
}
