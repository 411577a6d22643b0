package httpconn

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sluice-proxy/sluice/accesslog"
	"github.com/sluice-proxy/sluice/filters"
	httpfilter "github.com/sluice-proxy/sluice/filters/http"
	"github.com/sluice-proxy/sluice/tracing"
)

// stream wraps a codec's ResponseWriter to see what the response was.
type stream struct {
	http.ResponseWriter
	st        *httpfilter.Stream
	status    int
	sent      int64
	firstByte time.Duration
	start     time.Time
}

func (w *stream) WriteHeader(code int) {
	if w.status == 0 && code >= 200 || code == http.StatusSwitchingProtocols {
		w.status = code
		w.firstByte = time.Since(w.start)
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *stream) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(p)
	w.sent += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the codec's writer (Flush,
// Hijack for upgrades).
func (w *stream) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *stream) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// countingBody counts request body bytes. n and done are atomic: an
// upstream that answered early leaves its transport still reading the body
// while the stream's deferred access log and span read them.
type countingBody struct {
	r     interface{ Read([]byte) (int, error) }
	c     interface{ Close() error }
	n     atomic.Int64
	done  atomic.Int64 // time.Duration until the body's end; -1 before it
	t0    time.Time
	onEnd func() // at the body's end, if set
	// whole is set when the body was read to its end (io.EOF), not cut
	// off (max_stream_duration answers 408 or 504 by it).
	whole *atomic.Bool
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.n.Add(int64(n))
	if err == io.EOF && b.whole != nil {
		b.whole.Store(true)
	}
	if err != nil && b.done.Load() < 0 {
		b.done.Store(int64(time.Since(b.t0)))
		if b.onEnd != nil {
			b.onEnd()
		}
	}
	return n, err
}

func (b *countingBody) Close() error { return b.c.Close() }

// serveStream runs one request through the HTTP filters and the router,
// whatever the codec; s is the connection's session.
func (m *Manager) serveStream(w http.ResponseWriter, r *http.Request, s *filters.Session) {
	start := time.Now()
	m.stats.RqTotal.Inc()
	m.stats.RqActive.Inc()
	if r.ProtoMajor == 2 {
		m.stats.RqHTTP2Total.Inc()
	} else {
		m.stats.RqHTTP1Total.Inc()
	}
	st := &httpfilter.Stream{}
	if sw, ok := w.(interface{ setStream(*httpfilter.Stream) }); ok {
		sw.setStream(st) // the HTTP/1 writer ends a broken response by closing
	}
	ctx := httpfilter.WithStream(r.Context(), st)
	// The local address, as net/http's own server gives it (rbac's destination_port).
	ctx = context.WithValue(ctx, http.LocalAddrContextKey, net.TCPAddrFromAddrPort(s.Local))
	ctx, md, cancelMD := m.withMaxDuration(ctx, start, m.cfg.CommonHTTPProtocolOptions.MaxStreamDuration.D())
	defer cancelMD()
	defer md.stop()
	body := &countingBody{r: r.Body, c: r.Body, t0: start, whole: &md.bodyDone}
	body.done.Store(-1)
	if r.Body == nil || r.Body == http.NoBody {
		body.done.Store(0)
	}
	if body.done.Load() == 0 || r.ContentLength == 0 { // nothing to read: the request is whole
		md.bodyDone.Store(true)
	}
	if d := m.cfg.RequestTimeout.D(); d > 0 && body.done.Load() < 0 {
		// Envoy's request_timeout: the whole request must arrive in time;
		// the timer stops when the body has been read to its end.
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		t := time.AfterFunc(d, func() {
			m.stats.RqTimeout.Inc()
			cancel()
		})
		defer t.Stop()
		body.onEnd = func() { t.Stop() }
	}
	r = r.WithContext(ctx)
	r.Body = body
	sw := &stream{ResponseWriter: w, st: st, start: start}
	var span *tracing.Span // set once the route is matched (tracing.go)
	// Deferred: the reverse proxy aborts an HTTP/2 stream whose upstream
	// body broke off with a panic (http.ErrAbortHandler) that x/net/http2
	// turns into RST_STREAM; the request is still counted and logged.
	defer func() {
		aborted := recover()
		if aborted != nil {
			st.SetFlag(httpfilter.UpstreamReset)
		}
		d := time.Since(start)
		m.stats.RqActive.Dec()
		m.stats.RqCompleted.Inc()
		m.stats.countResponse(sw.status)
		m.stats.RqTime.Record(float64(d.Milliseconds()))
		if len(m.logs) > 0 {
			m.writeAccess(sw, r, s, body, d)
		}
		finishTrace(span, sw, r, s.TLS != nil, s.Remote.String(), body.n.Load())
		if aborted != nil {
			panic(aborted)
		}
	}()
	if m.prepare(sw, r, s) {
		// The route is matched before the filters run, as in Envoy, so
		// that they see it (per-route config); the router uses it.
		if rt := m.routes.Load().Route(r); rt != nil {
			st.Route = rt
		}
		r, span = m.startTrace(r, st)
		m.handler.ServeHTTP(sw, r)
	}
	if sw.status == 0 {
		sw.WriteHeader(http.StatusOK)
	}
}

// prepare applies the connection manager's request rules before the
// filters: header limits, x-forwarded-for, x-request-id. False means it
// answered the request itself.
func (m *Manager) prepare(w *stream, r *http.Request, s *filters.Session) bool {
	if r.ProtoMajor == 2 && len(r.Header) > int(m.cfg.CommonHTTPProtocolOptions.MaxHeadersCount) {
		m.localReply(w, r, http.StatusRequestHeaderFieldsTooLarge, "headers count exceeds limit", 0)
		return false
	}
	if act := m.cfg.CommonHTTPProtocolOptions.HeadersWithUnderscoresAction; act != "ALLOW" {
		for k := range r.Header {
			if strings.IndexByte(k, '_') < 0 {
				continue
			}
			if act == "REJECT_REQUEST" {
				m.stats.RejectedUnderscores.Inc()
				m.localReply(w, r, http.StatusBadRequest, "unexpected underscore in header", httpfilter.DownstreamProtocolError)
				return false
			}
			m.stats.DroppedUnderscores.Inc()
			delete(r.Header, k)
		}
	}
	// Envoy strips x-envoy-* headers from external clients at the edge.
	if m.cfg.UseRemoteAddress {
		for k := range r.Header {
			if strings.HasPrefix(k, "X-Envoy-") {
				delete(r.Header, k)
			}
		}
	}
	// An h2c upgrade is the downstream connection's business, never the
	// upstream's (Envoy drops it too).
	if strings.EqualFold(r.Header.Get("Upgrade"), "h2c") {
		r.Header.Del("Upgrade")
		r.Header.Del("Http2-Settings")
	}
	m.forwardedFor(r, s)
	if r.Header.Get("X-Forwarded-Proto") == "" || m.cfg.UseRemoteAddress {
		proto := "http"
		if s.TLS != nil {
			proto = "https"
		}
		r.Header.Set("X-Forwarded-Proto", proto)
	}
	gen := m.cfg.GenerateRequestID == nil || *m.cfg.GenerateRequestID
	external := m.cfg.UseRemoteAddress && !m.cfg.PreserveExternalRequestID
	if gen && (r.Header.Get("X-Request-Id") == "" || external) {
		r.Header.Set("X-Request-Id", uuid4())
	}
	m.prepareMore(w, r, s) // hcmextra.go
	return true
}

// forwardedFor appends the peer to x-forwarded-for at the edge
// (use_remote_address) and records the trusted client address in
// x-envoy-external-address, as Envoy does. Either way the stream gets the
// client address the filters see as the downstream remote address.
func (m *Manager) forwardedFor(r *http.Request, s *filters.Session) {
	peer := s.Remote.Addr().Unmap()
	client := peer
	defer func() {
		if st := httpfilter.FromContext(r.Context()); st != nil {
			st.ClientAddr = client
		}
	}()
	n := int(m.cfg.XffNumTrustedHops)
	if !m.cfg.UseRemoteAddress {
		// Envoy: without use_remote_address the client is the XFF entry
		// n from the right, when there is one.
		if parts := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ","); len(parts) > n {
			if ip, err := netip.ParseAddr(strings.TrimSpace(parts[len(parts)-1-n])); err == nil {
				client = ip.Unmap()
			}
		}
		return
	}
	list := peer.String()
	if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 {
		list = strings.Join(xff, ",") + "," + list
	}
	if !m.cfg.SkipXffAppend { // skip_xff_append: judged as if appended
		r.Header.Set("X-Forwarded-For", list)
	}
	if n > 0 {
		parts := strings.Split(list, ",")
		if i := len(parts) - 1 - n; i >= 0 {
			if ip, err := netip.ParseAddr(strings.TrimSpace(parts[i])); err == nil {
				client = ip.Unmap()
			}
		}
	}
	r.Header.Set("X-Envoy-External-Address", client.String())
}

// uuid4 returns a random (version 4) UUID, Envoy's x-request-id shape.
func uuid4() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}

// writeAccess writes the request's line to every access log.
func (m *Manager) writeAccess(w *stream, r *http.Request, s *filters.Session, body *countingBody, d time.Duration) {
	rec := &accesslog.Record{
		Start: w.start, Duration: d, Req: r, RespHeader: w.Header(), RespTrailer: trailersOf(w.Header()), Status: w.status,
		Flags: w.st.Flags().String(), BytesReceived: body.n.Load(), BytesSent: w.sent,
		UpstreamHost: w.st.UpstreamHost, Cluster: w.st.Cluster,
		DownstreamAddr: s.Remote.String(), LocalAddr: s.Local.String(), ServerName: s.SNI,
		ConnectionID: s.ID, ReqDuration: time.Duration(body.done.Load()), RespDuration: w.firstByte, Metadata: w.st.Metadata(),
	}
	if rec.Flags == "-" {
		rec.Flags = ""
	}
	if w.st.Route != nil {
		rec.RouteName = w.st.Route.Name()
	}
	var buf []byte
	for _, l := range m.logs {
		buf = buf[:0]
		if l.json != nil {
			buf = l.json.Append(buf, rec)
		} else {
			buf = l.text.Append(buf, rec)
		}
		if err := l.file.Write(buf); err != nil {
			m.log.Warn("http_connection_manager: writing the access log", "err", err)
		}
	}
}

// trailersOf returns the response trailers a handler set in h, the way
// net/http takes them: keys with http.TrailerPrefix, and the names the
// Trailer header announced (the reverse proxy uses either); nil if none.
func trailersOf(h http.Header) http.Header {
	var t http.Header
	for k, v := range h {
		if name, ok := strings.CutPrefix(k, http.TrailerPrefix); ok {
			if t == nil {
				t = http.Header{}
			}
			t[http.CanonicalHeaderKey(name)] = v
		}
	}
	for _, line := range h["Trailer"] {
		for _, name := range strings.Split(line, ",") {
			name = http.CanonicalHeaderKey(strings.TrimSpace(name))
			if v, ok := h[name]; ok {
				if t == nil {
					t = http.Header{}
				}
				t[name] = v
			}
		}
	}
	return t
}
