package httpconn

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/sluice-proxy/sluice/cluster"
	"github.com/sluice-proxy/sluice/cluster/httppool"
	httpfilter "github.com/sluice-proxy/sluice/filters/http"
	"github.com/sluice-proxy/sluice/router"
)

// routeState is what the router hands from route to its transport.
type routeState struct {
	cl    *cluster.Cluster
	ups   *upstreamStats
	route *router.Route
	// body is the downstream HTTP/2 request body; see closeThrough.
	body io.Closer
	vc   *vcStats // the request's virtual cluster, nil without any
	// sending is the attempt's request as the Upstream gets it (tries).
	sending *http.Request
	tried   []*cluster.Host // the hosts picked so far
}

// closeThrough is the upstream request body over an HTTP/2 downstream
// body whose Close really closes it. The reverse proxy hands the
// transport a body whose Close does nothing, and net/http's HTTP/2 client
// waits, when the upstream ends a stream the client is still sending on
// (a gRPC server failing a streaming call), for its body writer, which is
// blocked reading the downstream: without this the call would hang until
// the route timeout instead of ending with the upstream's trailers.
type closeThrough struct {
	io.Reader
	c io.Closer
}

func (b closeThrough) Close() error { return b.c.Close() }

// remoteAddr is the request's peer as a net.Addr, for source_ip hashing.
func remoteAddr(r *http.Request) net.Addr {
	a, err := net.ResolveTCPAddr("tcp", r.RemoteAddr)
	if err != nil {
		return nil
	}
	return a
}

type routeStateKey struct{}

// route is the last handler: Envoy's router filter. It matches the route,
// answers direct responses and redirects, and forwards the rest through the
// upstream to the route's cluster within the route's timeout.
func (m *Manager) route(w http.ResponseWriter, r *http.Request) {
	st := httpfilter.FromContext(r.Context())
	if loc, ok := m.routes.Load().TLSRedirect(r); ok { // require_tls
		m.stats.RqRedirect.Inc()
		w.Header().Set("Location", loc)
		m.localReplyBody(w, r, http.StatusMovedPermanently, "")
		return
	}
	rt, _ := st.Route.(*router.Route)
	if rt == nil { // no route, or a filter cleared it to have it matched again
		rt = m.routes.Load().Route(r)
	}
	if rt == nil {
		m.stats.NoRoute.Inc()
		m.localReply(w, r, http.StatusNotFound, "", httpfilter.NoRoute)
		return
	}
	st.Route = rt
	vc := rt.VirtualCluster(r) // Envoy matches virtual clusters before rewrites
	rt.Rewrite(r)
	if status, body, ok := rt.DirectResponse(); ok {
		m.stats.RqDirectResponse.Inc()
		rt.MutateResponse(w.Header())
		m.localReplyBody(w, r, status, body)
		return
	}
	if loc, status, ok := rt.Redirect(r); ok {
		m.stats.RqRedirect.Inc()
		rt.MutateResponse(w.Header())
		w.Header().Set("Location", loc)
		m.localReplyBody(w, r, status, "")
		return
	}
	name := rt.Cluster(r)
	st.Cluster = name
	for _, h := range m.routes.Load().InternalOnlyHeaders() {
		if m.cfg.UseRemoteAddress {
			r.Header.Del(h)
		}
	}
	cl := m.clusters.Get(name)
	if cl == nil {
		m.stats.NoCluster.Inc()
		m.localReply(w, r, rt.ClusterNotFoundStatus(), "", httpfilter.NoClusterFound)
		return
	}
	if router.IsConnect(r) {
		if !m.upgradeAllowed(r, rt) {
			m.refuseUpgrade(w, r)
			return
		}
		m.tunnel(w, r, cl, rt)
		return
	}
	if r.Method == http.MethodConnect && r.Header.Get(":protocol") != "" {
		if !m.upgradeAllowed(r, rt) {
			m.refuseUpgrade(w, r)
			return
		}
		m.extendedConnect(w, r, cl, rt) // RFC 8441
		return
	}
	rs := &routeState{cl: cl, ups: m.ups.of(cl), route: rt, vc: m.feat.vcluster(rt.VirtualHost(), vc)}
	if r.ProtoMajor == 2 && r.Body != nil && r.Body != http.NoBody {
		rs.body = r.Body
	}
	ctx := context.WithValue(r.Context(), routeStateKey{}, rs)
	// Only with a hash policy: parsing the client's address for it on
	// every request was a visible share of the allocations.
	if rt.HasHashPolicy() {
		if h, ok := rt.HashKey(r, remoteAddr(r)); ok {
			ctx = httppool.WithHash(context.WithValue(ctx, upgradeHashKey{}, h), h)
		}
	}

	if isUpgrade(r) && !m.upgradeAllowed(r, rt) {
		m.refuseUpgrade(w, r)
		return
	}
	if isUpgrade(r) {
		m.stats.CxUpgradesTotal.Inc()
		m.stats.CxUpgradesActive.Inc()
		defer m.stats.CxUpgradesActive.Dec()
	}
	if to := rt.RequestTimeouts(r.Header); !isUpgrade(r) {
		d := headerTimeout(r.Header, to.Route) // x-envoy-upstream-rq-timeout-ms
		if d > 0 {
			if !m.router.SuppressEnvoyHeaders {
				r.Header.Set("X-Envoy-Expected-Rq-Timeout-Ms", strconv.FormatInt(d.Milliseconds(), 10))
			}
			if to.GRPC {
				r.Header.Set("Grpc-Timeout", router.FormatGrpcTimeout(d))
			}
		}
		// The route's stream bound (max_stream_duration, or the
		// grpc-timeout it caps) replaces the connection manager's, from
		// the stream's start, as Envoy's refreshDurationTimeout does.
		if s := to.Stream; s > 0 {
			if md := maxDurationOf(r.Context()); md != nil {
				md.set(s)
			}
		}
		if d > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, d)
			defer cancel()
		}
	}
	if d, set := rt.IdleTimeout(); !isUpgrade(r) {
		if d = m.idleTimeout(r, d, set); d > 0 {
			var idle *streamIdle
			ctx, idle = startStreamIdle(ctx, d)
			defer idle.stop()
			w = idleWriter{w, idle}
			if r.Body != nil && r.Body != http.NoBody {
				r.Body = idleBody{r.Body, idle}
			}
		}
	}
	out := r.WithContext(ctx)
	out.RemoteAddr = "" // the reverse proxy must not append to x-forwarded-for: prepare did
	// Deferred: the reverse proxy ends a response that broke off midway
	// with a panic (http.ErrAbortHandler). (max_stream_duration counts
	// when its timer fires: maxduration.go.)
	defer func() {
		if streamIdleReached(ctx) {
			m.stats.RqIdleTimeout.Inc()
		}
	}()
	if !isUpgrade(r) {
		m.forward(w, out)
		return
	}
	m.proxy.ServeHTTP(w, out)
}

func isUpgrade(r *http.Request) bool { return r.Header.Get("Upgrade") != "" }

// direct prepares the outgoing request (a clone, hop-by-hop headers removed
// by the reverse proxy): the cluster is the URL's host, the Host header is
// kept, and x-forwarded-for is left as prepare set it.
func (m *Manager) direct(out *http.Request) {
	out.URL.Scheme = "http"
	if rs, ok := out.Context().Value(routeStateKey{}).(*routeState); ok {
		out.URL.Host = rs.cl.Name()
		if rs.cl.IsDynamicForwardProxy() { // the forward transport dials the request's authority
			out.URL.Host = httpfilter.Authority(out)
		}
	}
	if _, ok := out.Header["User-Agent"]; !ok {
		out.Header["User-Agent"] = nil // nor add Go's user agent
	}
}

// routerTransport sends a request through its cluster's Upstream and counts
// the cluster's upstream_rq_* stats (here, once per request).
type routerTransport struct{ m *Manager }

func (t routerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rs := r.Context().Value(routeStateKey{}).(*routeState)
	st := httpfilter.FromContext(r.Context())
	if rs.body != nil && r.Body != nil && r.Body != http.NoBody {
		r.Body = closeThrough{r.Body, rs.body} // the reverse proxy's own outgoing request
	}
	var up Upstream = t.m.upgrades.get(rs.cl)
	if rs.cl.IsDynamicForwardProxy() && !isUpgrade(r) {
		up = t.m.forwards.get(rs.cl)
	} else if !isUpgrade(r) {
		var ok bool
		if up, ok = t.m.upstream(rs.cl); !ok {
			return nil, errNoCluster
		}
	}
	// The pool picks the host and says which (%UPSTREAM_HOST%).
	auto := rs.route.AutoHostRewrite()
	ctx := httppool.WithHostReport(r.Context(), func(h *cluster.Host) {
		if st != nil {
			st.UpstreamHost = h.Address()
		}
		rs.tried = append(rs.tried, h) // for the previous_hosts predicate
		if auto && rs.sending != nil { // the pick comes before the request is written
			autoHost(rs.sending, h, rs.route.AppendXForwardedHost())
		}
	})
	if pol := rs.route.Retry(); pol != nil && pol.AvoidPreviousHosts {
		ctx = httppool.WithHostFilter(ctx, previousHosts(rs, pol))
	}
	start := time.Now()
	endSpan := traceUpstream(r, rs.cl.Name())
	resp, err := t.tries(up, r.WithContext(ctx), rs)
	if err != nil {
		rs.vc.failed(r, err)
		endSpan(0)
		return nil, err
	}
	endSpan(resp.StatusCode)
	rs.vc.response(resp.StatusCode, time.Since(start).Milliseconds())
	if !t.m.router.SuppressEnvoyHeaders {
		resp.Header.Set("X-Envoy-Upstream-Service-Time", strconv.FormatInt(time.Since(start).Milliseconds(), 10))
	}
	t.m.serverHeader(resp.Header, true)
	t.m.upstreamResponseMore(resp)
	rs.route.MutateResponse(resp.Header)
	if resp.ContentLength == 0 && router.IsGRPC(r.Header) {
		trailersOnly(resp)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols { // the tunnel needs the writable body
		resp.Body = &watchedBody{ReadCloser: resp.Body, st: st, ctx: r.Context()}
	}
	return resp, nil
}

var errNoCluster = errors.New("no upstream for the cluster")

// watchedBody marks the stream when the upstream body fails midway, so the
// HTTP/1 writer closes the connection instead of ending the body cleanly.
type watchedBody struct {
	io.ReadCloser
	st  *httpfilter.Stream
	ctx context.Context
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF && b.st != nil {
		if errors.Is(b.ctx.Err(), context.DeadlineExceeded) {
			b.st.SetFlag(httpfilter.UpstreamRequestTimeout)
		} else {
			b.st.SetFlag(httpfilter.UpstreamReset)
		}
	}
	return n, err
}

// upstreamError answers a request the upstream did not: Envoy's statuses,
// bodies and response flags.
func (m *Manager) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	if md := maxDurationOf(r.Context()); md != nil && md.fired.Load() {
		m.maxDurationReply(w, r, md.bodyDone.Load())
		return
	}
	switch {
	case streamIdleReached(r.Context()):
		m.localReply(w, r, http.StatusRequestTimeout, "stream timeout", httpfilter.StreamIdleTimeout)
	case errors.Is(err, cluster.ErrDNSResolution), errors.Is(err, cluster.ErrDNSCacheOverflow):
		m.localReply(w, r, http.StatusServiceUnavailable, "DNS resolution failure", httpfilter.DNSResolutionFailure)
	case errors.Is(err, cluster.ErrNoHealthyHost):
		m.localReply(w, r, http.StatusServiceUnavailable, "no healthy upstream", httpfilter.NoHealthyUpstream)
	case errors.Is(err, cluster.ErrOverflow):
		m.localReply(w, r, http.StatusServiceUnavailable, "upstream connect error or disconnect/reset before headers. reset reason: overflow", httpfilter.UpstreamOverflow)
	case errors.Is(r.Context().Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded):
		m.localReply(w, r, http.StatusGatewayTimeout, "upstream request timeout", httpfilter.UpstreamRequestTimeout)
	case r.Context().Err() != nil:
		httpfilter.FromContext(r.Context()).SetFlag(httpfilter.DownstreamConnTerminated)
		w.WriteHeader(499) // the client left; nothing is sent
	default:
		m.log.Debug("http_connection_manager: upstream error", "err", err)
		m.localReply(w, r, http.StatusServiceUnavailable, "upstream connect error or disconnect/reset before headers. reset reason: connection failure", httpfilter.UpstreamConnectFailure)
	}
}

// localReply answers with a plain-text body (Envoy's local reply) and sets
// flag (0 for none).
func (m *Manager) localReply(w http.ResponseWriter, r *http.Request, status int, body string, flag httpfilter.Flag) {
	if st := httpfilter.FromContext(r.Context()); st != nil && flag != 0 {
		st.SetFlag(flag)
	}
	m.localReplyBody(w, r, status, body)
}

func (m *Manager) localReplyBody(w http.ResponseWriter, r *http.Request, status int, body string) {
	if router.IsGRPC(r.Header) && status >= 400 {
		m.grpcLocalReply(w, status, body)
		return
	}
	h := w.Header()
	if body != "" {
		h.Set("Content-Type", "text/plain")
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	m.serverHeader(h, false)
	h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		io.WriteString(w, body)
	}
}

// bufPool lends the reverse proxy its 32 KiB copy buffers.
type bufPool struct{}

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func (bufPool) Get() []byte  { return *copyBufs.Get().(*[]byte) }
func (bufPool) Put(b []byte) { copyBufs.Put(&b) }
