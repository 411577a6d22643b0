package httpconn

import (
	"context"
	"io"
	"net/http"

	"github.com/sluice-proxy/sluice/cluster"
	httpfilter "github.com/sluice-proxy/sluice/filters/http"
	"github.com/sluice-proxy/sluice/router"
)

// extendedConnect carries an RFC 8441 extended CONNECT (HTTP/2 with a
// :protocol, such as websocket) to an HTTP/1.1 upstream as Envoy does: the
// request becomes a GET with Upgrade: <protocol> and Connection: Upgrade,
// the upstream's 101 becomes 200, and the stream's data flows both ways
// through the upgraded connection. Another answer is passed on as is.
func (m *Manager) extendedConnect(w http.ResponseWriter, r *http.Request, cl *cluster.Cluster, rt *router.Route) {
	proto := r.Header.Get(":protocol")
	out := r.Clone(r.Context())
	out.Method = http.MethodGet
	out.Header.Del(":protocol")
	out.Header.Set("Upgrade", proto)
	out.Header.Set("Connection", "Upgrade")
	out.Body, out.ContentLength = http.NoBody, 0
	out.URL.Scheme, out.URL.Host = "http", cl.Name()
	out.Proto, out.ProtoMajor, out.ProtoMinor = "HTTP/1.1", 1, 1
	out.RequestURI = ""
	ctx := out.Context()
	if h, ok := rt.HashKey(r, remoteAddr(r)); ok {
		ctx = context.WithValue(ctx, upgradeHashKey{}, h)
	}
	resp, err := m.upgrades.get(cl).RoundTrip(out.WithContext(ctx))
	if err != nil {
		m.upstreamError(w, r, err)
		return
	}
	defer resp.Body.Close()
	body, ok := resp.Body.(upstreamStream)
	if resp.StatusCode != http.StatusSwitchingProtocols || !ok {
		for k, vs := range resp.Header {
			w.Header()[k] = vs
		}
		w.WriteHeader(resp.StatusCode)
		bp := copyBufs.Get().(*[]byte)
		io.CopyBuffer(w, resp.Body, *bp)
		copyBufs.Put(bp)
		return
	}
	if st := httpfilter.FromContext(r.Context()); st != nil {
		st.UpstreamHost = cl.Name()
	}
	for k, vs := range resp.Header {
		switch k {
		case "Connection", "Upgrade":
		default:
			w.Header()[k] = vs
		}
	}
	m.stats.CxUpgradesTotal.Inc()
	m.stats.CxUpgradesActive.Inc()
	defer m.stats.CxUpgradesActive.Dec()
	w.WriteHeader(http.StatusOK)
	if err := http.NewResponseController(w).Flush(); err != nil {
		return
	}
	splice(flushWriter{w}, r.Body, func() { r.Body.Close() }, body, m.tunnelIdle(rt))
}
