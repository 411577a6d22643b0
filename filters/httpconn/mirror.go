package httpconn

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/sluice-proxy/sluice/router"
)

// mirrors prepares the route's request_mirror_policies for r (Envoy's
// shadowing): each policy whose runtime_fraction samples r gets a copy of
// the request, sent once the whole request body has arrived (kept in rp,
// bounded by the buffer limit; a body over it is not mirrored and counts
// retry_or_shadow_abandoned). Shadows are fire and forget: their responses
// are read and dropped, their failures only logged, and nothing waits for
// them, so they never slow or fail the request itself. It returns the
// body keeper, made here when the retries did not need one; abandoned says
// the retries counted retry_or_shadow_abandoned already.
func (t routerTransport) mirrors(r *http.Request, rs *routeState, rp *replay, limit int64, abandoned bool) *replay {
	var ms []router.Mirror
	for _, m := range rs.route.Mirrors() {
		if m.Sample() {
			ms = append(ms, m)
		}
	}
	if len(ms) == 0 {
		return rp
	}
	// The copy is taken now, before the main request's attempts change it.
	base := r.Clone(context.Background())
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		t.shadow(base, ms, nil, rs.route.Timeout())
		return rp
	}
	if rp == nil {
		if r.ContentLength > limit {
			if !abandoned { // once per request, as the retries may have counted
				t.m.feat.retryOrShadowAbandoned.Inc()
			}
			return nil
		}
		rp = newReplay(r.Body, limit, r.ContentLength)
	}
	rp.onComplete(func(body []byte, ok bool) {
		if !ok {
			t.m.feat.retryOrShadowAbandoned.Inc()
			return
		}
		t.shadow(base, ms, body, rs.route.Timeout())
	})
	return rp
}

// shadow sends one copy of base per mirror, each on its own goroutine,
// with Envoy's "-shadow" suffix on the host (before a port), within the
// route's timeout.
func (t routerTransport) shadow(base *http.Request, ms []router.Mirror, body []byte, timeout time.Duration) {
	for _, m := range ms {
		cl := t.m.clusters.Get(m.ClusterFor(base))
		if cl == nil {
			continue
		}
		up, ok := t.m.upstream(cl)
		if !ok || !t.m.feat.startShadow() {
			continue
		}
		req := base.Clone(t.m.feat.shadowCtx)
		if !m.KeepHost {
			req.Host = shadowHost(base.Host)
		}
		req.URL.Host = cl.Name()
		req.Body, req.ContentLength, req.GetBody = http.NoBody, 0, nil
		if len(body) > 0 {
			req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
		}
		req.Header.Del("Transfer-Encoding")
		go func() {
			defer t.m.feat.shadows.Done()
			ctx := req.Context()
			if timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, timeout)
				defer cancel()
			}
			resp, err := up.RoundTrip(req.WithContext(ctx))
			if err != nil {
				t.m.log.Debug("http_connection_manager: shadow request failed", "cluster", cl.Name(), "err", err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}()
	}
}

// shadowHost is Envoy's shadow authority: "-shadow" after the host name.
func shadowHost(h string) string {
	if host, port, err := net.SplitHostPort(h); err == nil {
		return net.JoinHostPort(host+"-shadow", port)
	}
	return h + "-shadow"
}
