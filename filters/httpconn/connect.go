package httpconn

import (
	"errors"
	"io"
	"net/http"
	"sync/atomic"
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
		splice(flushWriter{w}, r.Body, func() { r.Body.Close() }, tcpStream{up}, m.tunnelIdle(rt))
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
	splice(conn, brw.Reader, func() { conn.SetReadDeadline(time.Now()) }, tcpStream{up}, m.tunnelIdle(rt))
}

// tunnelIdle is how long a tunnel may carry no bytes either way before it
// is closed: the route's idle_timeout, else stream_idle_timeout (Envoy's
// rule for upgraded streams); 0 is none.
func (m *Manager) tunnelIdle(rt *router.Route) time.Duration {
	if d, ok := rt.IdleTimeout(); ok {
		return d
	}
	return m.cfg.StreamIdleTimeout.D()
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
func splice(client io.Writer, from io.Reader, stopClient func(), up upstreamStream, idle time.Duration) {
	done := make(chan struct{})
	var last atomic.Int64 // unix nanoseconds of the last byte either way
	if idle > 0 {
		last.Store(time.Now().UnixNano())
		client, from = activityWriter{client, &last}, activityReader{from, &last}
		stop := make(chan struct{})
		defer close(stop)
		go idleWatch(idle, &last, stop, up)
	}
	go func() {
		defer close(done)
		bp := copyBufs.Get().(*[]byte)
		_, err := io.CopyBuffer(upWriter{up}, from, *bp)
		copyBufs.Put(bp)
		if hc, ok := up.(interface{ CloseWrite() error }); ok && err == nil && hc.CloseWrite() == nil {
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

// upstreamStream is the upstream side of a tunnel: a connection, or an
// upgraded HTTP/1.1 response body. A CloseWrite method, when present and
// working, half-closes it.
type upstreamStream interface {
	io.ReadWriteCloser
}

// tcpStream gives an UpstreamConn the CloseWrite of its TCP connection.
type tcpStream struct{ *cluster.UpstreamConn }

func (t tcpStream) CloseWrite() error {
	if tc := t.TCP(); tc != nil {
		return tc.CloseWrite()
	}
	return errors.ErrUnsupported
}

// upWriter hides the upstream's ReadFrom so io.CopyBuffer uses its buffer
// (and sees the client's EOF as the end of the copy).
type upWriter struct{ up io.Writer }

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

// idleWatch closes up (which ends both copies of a tunnel) once no byte
// has moved for idle, until stop.
func idleWatch(idle time.Duration, last *atomic.Int64, stop <-chan struct{}, up io.Closer) {
	t := time.NewTimer(idle)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		since := time.Since(time.Unix(0, last.Load()))
		if since >= idle {
			up.Close()
			return
		}
		t.Reset(idle - since)
	}
}

// activityReader and activityWriter note the time of every byte a tunnel
// carries, for its idle timeout.
type activityReader struct {
	r    io.Reader
	last *atomic.Int64
}

func (a activityReader) Read(p []byte) (int, error) {
	n, err := a.r.Read(p)
	if n > 0 {
		a.last.Store(time.Now().UnixNano())
	}
	return n, err
}

type activityWriter struct {
	w    io.Writer
	last *atomic.Int64
}

func (a activityWriter) Write(p []byte) (int, error) {
	a.last.Store(time.Now().UnixNano())
	return a.w.Write(p)
}
