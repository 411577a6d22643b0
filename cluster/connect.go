package cluster

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"github.com/sluice-proxy/sluice/tlsctx"
)

// Connect picks a host and dials it within the cluster's connect_timeout,
// counting Envoy's upstream_cx_* stats. It fails fast with ErrNoHealthyHost
// or ErrOverflow (max_connections reached). The connection is the whole
// transaction (tcp_proxy): a successful connect counts as a success of the
// host for outlier detection. The returned conn must be closed with its
// Close or CloseBy method, which keeps gauges and breakers right.
func (c *Cluster) Connect(ctx context.Context, hash uint64, hasHash bool) (*UpstreamConn, error) {
	h := c.Pick(hash, hasHash)
	if h == nil {
		c.stats.CxNoneHealthy.Inc()
		return nil, fmt.Errorf("cluster %s: %w", c.name, ErrNoHealthyHost)
	}
	return c.dial(ctx, h, ConnectSuccessFinal)
}

// Dial connects to a chosen host of this cluster (for pools, whose requests
// report their own outcomes). Connect failures are reported to outlier
// detection; the DEFAULT priority's max_connections is enforced.
func (c *Cluster) Dial(ctx context.Context, h *Host) (*UpstreamConn, error) {
	return c.dial(ctx, h, ConnectSuccess)
}

func (c *Cluster) dial(ctx context.Context, h *Host, onSuccess Result) (*UpstreamConn, error) {
	cx := &c.breakers[0].Connections
	if !cx.TryAcquire() {
		return nil, fmt.Errorf("cluster %s: %w (max_connections %d)", c.name, ErrOverflow, cx.Max())
	}
	cfg := c.cfg.Load()
	c.stats.CxTotal.Inc()
	h.CxTotal.Add(1)
	start := time.Now()
	dctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout.D())
	conn, err := c.dialer(dctx, "tcp", h.DialAddress())
	if pp := cfg.UpstreamProxyProtocol; err == nil && pp != nil {
		// Envoy's upstream_proxy_protocol transport socket: the header
		// goes first, before anything else (TLS included) is spoken.
		if err = writeProxyHeader(ctx, conn, pp); err != nil {
			conn.Close()
			err = fmt.Errorf("PROXY header: %w", err)
		}
	}
	if err == nil {
		conn, err = c.handshake(dctx, ctx, conn)
	}
	cancel()
	if err != nil {
		cx.Release()
		if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
			c.stats.CxConnectTimeout.Inc()
		}
		c.stats.CxConnectFail.Inc()
		h.CxConnectFail.Add(1)
		if ctx.Err() == nil { // our own cancellation says nothing of the host
			h.Report(ConnectFailed)
			c.redisFailed()
		}
		return nil, fmt.Errorf("cluster %s: connect to %s: %w", c.name, h.addr, err)
	}
	c.stats.CxConnectMs.Record(float64(time.Since(start).Microseconds()) / 1000)
	c.stats.CxActive.Inc()
	h.CxActive.Add(1)
	h.Report(onSuccess)
	return &UpstreamConn{Conn: conn, Host: h, start: time.Now(), cx: cx}, nil
}

// handshake runs the cluster's upstream TLS on conn, if it has any, within
// the connect timeout (dctx); the SNI is the configured one or, with
// auto_sni, the downstream's from ctx.
func (c *Cluster) handshake(dctx, ctx context.Context, conn net.Conn) (net.Conn, error) {
	u := c.tls.Load()
	if u == nil {
		return conn, nil
	}
	if u.err != nil {
		conn.Close()
		return nil, fmt.Errorf("upstream TLS: %w", u.err)
	}
	o, _ := ctx.Value(handshakeKey{}).(tlsctx.HandshakeOptions)
	tc, err := u.client.HandshakeWith(dctx, conn, u.client.ServerName(downstreamSNI(ctx)), o)
	if err != nil {
		conn.Close()
		c.log.Info("upstream TLS handshake failed", "err", err)
		return nil, fmt.Errorf("TLS handshake: %w", err)
	}
	return tc, nil
}

// UpstreamConn is a connection to a host of a cluster.
type UpstreamConn struct {
	net.Conn
	Host   *Host
	start  time.Time
	cx     *Resource
	closed atomic.Bool
}

// NegotiatedProtocol is the ALPN protocol the cluster's upstream TLS
// agreed on; empty in plain text or when the server chose none.
func (u *UpstreamConn) NegotiatedProtocol() string {
	if tc, ok := u.Conn.(*tls.Conn); ok {
		return tc.ConnectionState().NegotiatedProtocol
	}
	return ""
}

// TCP returns the underlying *net.TCPConn, or nil.
func (u *UpstreamConn) TCP() *net.TCPConn {
	t, _ := u.Conn.(*net.TCPConn)
	return t
}

// SetInner replaces the conn under u with another over the same socket (an
// event loop that held the socket gives it back as a new conn); its user
// must not be using u meanwhile.
func (u *UpstreamConn) SetInner(c net.Conn) { u.Conn = c }

// CloseWrite half-closes the connection when it supports it.
func (u *UpstreamConn) CloseWrite() error {
	if cw, ok := u.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// CountBytes adds to the cluster's byte counters.
func (u *UpstreamConn) CountBytes(rx, tx uint64) {
	st := u.Host.cluster.stats
	if rx > 0 {
		st.CxRxBytes.Add(rx)
	}
	if tx > 0 {
		st.CxTxBytes.Add(tx)
	}
}

// CloseBy closes the connection once; remote says whether the upstream
// closed first (upstream_cx_destroy_remote) or we did (upstream_cx_destroy_local).
// Closing the last connection of a draining host drops the host.
func (u *UpstreamConn) CloseBy(remote bool) error {
	if !u.closed.CompareAndSwap(false, true) {
		return nil
	}
	c := u.Host.cluster
	st := c.stats
	st.CxActive.Dec()
	left := u.Host.CxActive.Add(-1)
	u.cx.Release()
	st.CxDestroy.Inc()
	if remote {
		st.CxDestroyRemote.Inc()
	} else {
		st.CxDestroyLocal.Inc()
	}
	st.CxLengthMs.Record(float64(time.Since(u.start).Milliseconds()))
	err := u.Conn.Close()
	if left == 0 && u.Host.Flags()&PendingDynamicRemoval != 0 {
		c.pruneDrained()
	}
	return err
}

// Close closes the connection as a local close.
func (u *UpstreamConn) Close() error { return u.CloseBy(false) }
