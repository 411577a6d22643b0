package httpconn

import (
	"io"
	"net/http"
	"time"

	"github.com/sluice-proxy/sluice/cluster"
	httpfilter "github.com/sluice-proxy/sluice/filters/http"
	"github.com/sluice-proxy/sluice/router"
)

// tunnel answers a CONNECT request (HTTP/1.1, or HTTP/2 without :protocol)
// whose route enables upgrade_type CONNECT, as Envoy does when it
// terminates CONNECT: it connects to a host of the cluster, answers 200 and
// carries the bytes both ways until either side ends. A route without the
// upgrade gets 403, Envoy's answer to a refused upgrade.
func (m *Manager) tunnel(w http.ResponseWriter, r *http.Request, cl *cluster.Cluster, rt *router.Route) {
	if !rt.Connect() {
		m.localReply(w, r, http.StatusForbidden, "", 0)
		return
	}
	up, err := connectUpstream(r, cl, rt)
	if err != nil {
		m.upstreamError(w, r, err)
		return
	}
	defer up.Close()
	if st := httpfilter.FromContext(r.Context()); st != nil {
		st.UpstreamHost = up.Host.Address()
	}
	m.stats.CxUpgradesTotal.Inc()
	m.stats.CxUpgradesActive.Inc()
	defer m.stats.CxUpgradesActive.Dec()
	if r.ProtoMajor == 2 {
		w.WriteHeader(http.StatusOK)
		if err := http.NewResponseController(w).Flush(); err != nil {
			return
		}
		splice(flushWriter{w}, r.Body, func() { r.Body.Close() }, up)
		return
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		m.log.Debug("http_connection_manager: CONNECT hijack", "err", err)
		return
	}
	markStatus(w, http.StatusOK)
	brw.WriteString("HTTP/1.1 200 OK\r\n\r\n")
	if err := brw.Flush(); err != nil {
		return
	}
	// The buffered reader may hold bytes the client sent after the head
	// (a TLS ClientHello in the same segment): read through it.
	splice(conn, brw.Reader, func() { conn.SetReadDeadline(time.Now()) }, up)
}

// connectUpstream connects to the cluster's pick, or for a
// dynamic_forward_proxy cluster to the CONNECT authority through its DNS
// cache.
func connectUpstream(r *http.Request, cl *cluster.Cluster, rt *router.Route) (*cluster.UpstreamConn, error) {
	if cl.IsDynamicForwardProxy() {
		h, err := cl.ResolveHost(r.Context(), httpfilter.Authority(r))
		if err != nil {
			return nil, err
		}
		return cl.Dial(r.Context(), h)
	}
	h, hasHash := rt.HashKey(r, remoteAddr(r))
	return cl.Connect(r.Context(), h, hasHash)
}

// splice copies client to up and up to client. When the client's side
// ends cleanly the upstream's write side is half-closed and the upstream's
// answer still flows back; when the upstream ends, or the client's side
// fails, both end (stopClient unblocks the client read).
func splice(client io.Writer, from io.Reader, stopClient func(), up *cluster.UpstreamConn) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		bp := copyBufs.Get().(*[]byte)
		_, err := io.CopyBuffer(upWriter{up}, from, *bp)
		copyBufs.Put(bp)
		if tc := up.TCP(); err == nil && tc != nil {
			tc.CloseWrite()
			return
		}
		up.Close() // unblocks the copy below
	}()
	bp := copyBufs.Get().(*[]byte)
	io.CopyBuffer(client, up, *bp)
	copyBufs.Put(bp)
	stopClient()
	<-done
}

// upWriter hides UpstreamConn's ReadFrom so io.CopyBuffer uses its buffer
// (and sees the client's EOF as the end of the copy).
type upWriter struct{ up *cluster.UpstreamConn }

func (u upWriter) Write(p []byte) (int, error) { return u.up.Write(p) }

// flushWriter flushes every write of an HTTP/2 tunnel: its bytes are
// interactive, never held for a fuller frame.
type flushWriter struct{ w http.ResponseWriter }

func (f flushWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if err == nil {
		err = http.NewResponseController(f.w).Flush()
	}
	return n, err
}

// markStatus records the status of a hijacked response for stats and the
// access log (the head is written raw, past the stream's writer).
func markStatus(w http.ResponseWriter, code int) {
	for w != nil {
		if s, ok := w.(*stream); ok {
			s.status = code
			return
		}
		u, ok := w.(interface{ Unwrap() http.ResponseWriter })
		if !ok {
			return
		}
		w = u.Unwrap()
	}
}
