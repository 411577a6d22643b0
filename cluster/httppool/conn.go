package httppool

import (
	"context"
	"crypto/tls"
	"errors"
	"math"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sluice-proxy/sluice/cluster"
	"github.com/sluice-proxy/sluice/codec/http1"
	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/tlsctx"
)

// conn is one pooled connection; its fields but cc are guarded by its
// hostPool's mu.
type conn struct {
	cc       clientConn
	h2, tls  bool
	active   int    // requests assigned and not yet finished
	requests uint32 // requests ever assigned
	born     time.Time
	lastUsed time.Time
	retiring bool // takes no new request; closes with its last
	closed   bool
	skip     bool      // scratch for pickLocked
	capSeen  int       // HTTP/2: the most streams Available+InFlight showed
	lat      float64   // moving average of request time in ms; 0 until measured
	latAt    time.Time // when lat was last updated
}

// latNow is c's request-time estimate at now: lat halved for every
// decayMeans mean request times (of the host's measured connections) since
// it was measured, so that a connection that once answered slowly and was
// left alone is tried again (its server process may be idle by now). A
// connection not measured yet estimates 0: it is tried first, once (the
// fewest-outstanding rule comes before this one).
func (c *conn) latNow(now time.Time, mean float64) float64 {
	if c.lat == 0 {
		return 0
	}
	age := float64(now.Sub(c.latAt).Microseconds()) / 1000
	return c.lat * math.Exp2(-age/(decayMeans*mean))
}

// observe folds one request's time into c's estimate: an average in which
// the old estimate weighs 3/4 when it is fresh and less as it ages, at the
// rate latNow decays it, so that a connection tried again after its server
// process was slow for a moment comes back at once if the process is fast
// now. (Folding into the stale value with a fixed 3/4 put a 50 ms estimate
// back at 38 ms after a 2 ms answer: a process slow once, on its first
// calls say, was then retried only now and then.)
func (c *conn) observe(d time.Duration, now time.Time, mean float64) {
	ms := float64(d.Microseconds()) / 1000
	if c.lat == 0 {
		c.lat, c.latAt = ms, now
		return
	}
	age := float64(now.Sub(c.latAt).Microseconds()) / 1000
	w := 0.75 * math.Exp2(-age/(decayMeans*mean))
	c.lat, c.latAt = w*c.lat+(1-w)*ms, now
}

// limit is how many requests the pool puts on c at once.
func (c *conn) limit(s *settings) int {
	if !c.h2 {
		return 1
	}
	return s.hard
}

// kind is how a host pool's connections are made.
type kind uint8

const (
	kindH1      kind = iota // plain HTTP/1.1
	kindH2C                 // plain HTTP/2, prior knowledge
	kindTLS1                // TLS, ALPN http/1.1
	kindTLS2                // TLS, ALPN h2
	kindTLSAuto             // TLS, ALPN h2 or http/1.1
	numKinds
)

func (k kind) tls() bool     { return k >= kindTLS1 }
func (k kind) mayBeH2() bool { return k == kindH2C || k == kindTLS2 || k == kindTLSAuto }
func (k kind) alpn() []string {
	return [...][]string{nil, nil, {"http/1.1"}, {"h2"}, {"h2", "http/1.1"}}[k]
}

// kindOf maps the cluster's protocol (and, for use_downstream_protocol_config,
// the request's) to a connection kind.
func kindOf(s *settings, req *http.Request, withTLS bool) kind {
	h2 := false
	switch s.proto {
	case config.ProtoHTTP2:
		h2 = true
	case config.ProtoDownstream:
		h2 = req.ProtoMajor == 2
	case config.ProtoAuto:
		if withTLS {
			return kindTLSAuto
		}
	}
	switch {
	case withTLS && h2:
		return kindTLS2
	case withTLS:
		return kindTLS1
	case h2:
		return kindH2C
	}
	return kindH1
}

// uses reports whether requests under s may use connections of kind k.
func (s *settings) uses(k kind, withTLS bool) bool {
	h1 := &http.Request{ProtoMajor: 1}
	h2 := &http.Request{ProtoMajor: 2}
	return kindOf(s, h1, withTLS) == k || kindOf(s, h2, withTLS) == k
}

// transport builds the net/http Transport that makes connections of kind k;
// it never pools (NewClientConn connections are the caller's).
func (p *Pool) transport(k kind, s *settings) *http.Transport {
	_, h2, _ := s.cfg.UpstreamHTTP()
	t := &http.Transport{
		DialContext:        p.dial,
		DisableCompression: true, // a proxy passes Accept-Encoding and bodies through
		ForceAttemptHTTP2:  k.mayBeH2(),
		Protocols:          new(http.Protocols),
		HTTP2: &http.HTTP2Config{
			MaxReceiveBufferPerConnection: capWindow(h2.InitialConnectionWindowSize),
			MaxReceiveBufferPerStream:     capWindow(h2.InitialStreamWindowSize),
		},
	}
	switch k {
	case kindH1:
		t.Protocols.SetHTTP1(true)
	case kindH2C:
		t.Protocols.SetUnencryptedHTTP2(true)
	default:
		t.Protocols.SetHTTP1(true)
		t.Protocols.SetHTTP2(true)
		t.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			return p.dialTLS(ctx, network, addr, k)
		}
	}
	return t
}

// capWindow fits an Envoy window size to what Go's HTTP/2 client accepts
// (below 4 MiB); 0 keeps Go's default.
func capWindow(w uint32) int {
	return int(min(w, 4<<20-1))
}

// dialKey carries a connect's host and results through net/http's dial.
type dialKey struct{}

type dialInfo struct {
	h    *cluster.Host
	alpn string
	pre  net.Conn // dialed (and TLS-handshaken) by the cluster already
}

// handshake is what a connection of hp offers over the cluster's own TLS,
// as Envoy's pools do: auto_config offers both protocols and lets the
// server choose; an explicit protocol is offered when the context lists
// no alpn_protocols of its own. auto_sni's name is sent (and with
// auto_san_validation verified).
func (hp *hostPool) handshake(s *settings) tlsctx.HandshakeOptions {
	o := tlsctx.HandshakeOptions{SNI: hp.sni}
	switch hp.kind {
	case kindTLSAuto:
		o.ALPNOverride = hp.kind.alpn()
	case kindTLS1, kindTLS2:
		o.ALPNFallback = hp.kind.alpn()
	}
	if hp.sni != "" && s.sni != nil && s.sni.AutoSANValidation {
		o.VerifyName = hp.sni
	}
	return o
}

// sniFor is the SNI auto_sni gives req's connections of kind k: the
// override header's value, else the Host without its port; "" without
// auto_sni or TLS.
func (s *settings) sniFor(req *http.Request, k kind) string {
	if s.sni == nil || !k.tls() {
		return ""
	}
	if h := s.sni.OverrideAutoSNIHeader; h != "" {
		if v := req.Header.Get(h); v != "" {
			return v
		}
	}
	host := req.Host
	if host == "" && req.URL != nil {
		host = req.URL.Host
	}
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.TrimSuffix(host, ".")
}

// withTLS reports whether the pool's connections speak TLS: Options.TLS,
// or the cluster's own tls block (which a reload may add or drop).
func (p *Pool) withTLS() bool { return p.opts.TLS != nil || p.c.HasTLS() }

// connect opens one connection of hp's kind to its host.
func (p *Pool) connect(hp *hostPool) (*conn, error) {
	di := &dialInfo{h: hp.h}
	cfg := p.c.Config()
	// The timeout bounds TCP connect (again, in Dial) and the TLS and
	// HTTP/2 preface exchange.
	ctx, cancel := context.WithTimeout(context.WithValue(p.ctx, dialKey{}, di), 2*cfg.ConnectTimeout.D())
	defer cancel()
	scheme, tk := "http", hp.kind
	if hp.kind.tls() && p.opts.TLS == nil {
		// The cluster's tls block: Dial runs the handshake (ssl.* stats,
		// connect failures, SNI) offering the kind's ALPN; net/http then
		// speaks plain HTTP/1.1 or prior-knowledge HTTP/2 over the TLS
		// connection, as the negotiated protocol (auto_config) or the
		// configured one says.
		uc, err := p.c.Dial(cluster.WithHandshake(ctx, hp.handshake(p.settings())), hp.h)
		if err != nil {
			return nil, err
		}
		di.pre, di.alpn = &upConn{UpstreamConn: uc}, uc.NegotiatedProtocol()
		tk = kindH1
		if hp.kind == kindTLS2 || (hp.kind == kindTLSAuto && di.alpn == "h2") {
			tk, di.alpn = kindH2C, "h2"
		}
	} else if hp.kind.tls() {
		scheme = "https"
	}
	var cc clientConn
	if tk == kindH1 {
		// HTTP/1.1 in plain text or over the cluster's TLS: the pool's own
		// connection (h1conn.go).
		nc := di.pre
		if nc == nil {
			uc, err := p.c.Dial(ctx, hp.h)
			if err != nil {
				return nil, err
			}
			nc = &upConn{UpstreamConn: uc}
		}
		// Envoy's limits on upstream response heads: 60 KiB, 100 fields.
		cc = newH1Conn(nc, http1.DefaultLimits)
	} else {
		hc, err := p.tr[tk].NewClientConn(ctx, scheme, hp.h.DialAddress())
		if err != nil {
			if di.pre != nil {
				di.pre.Close()
			}
			return nil, err
		}
		cc = hc
	}
	// tls says whether net/http itself speaks TLS (the request URL's scheme).
	c := &conn{cc: cc, tls: tk.tls(), born: time.Now()}
	c.lastUsed = c.born
	c.h2 = tk == kindH2C || di.alpn == "h2"
	if c.h2 {
		p.st.cxHTTP2.Inc()
	} else {
		p.st.cxHTTP1.Inc()
	}
	return c, nil
}

// dial is net/http's DialContext: a connect through the cluster, so that
// connect_timeout, max_connections and upstream_cx_* apply.
func (p *Pool) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	di, _ := ctx.Value(dialKey{}).(*dialInfo)
	if di == nil {
		return nil, errors.New("httppool: dial outside a pool connect")
	}
	if pre := di.pre; pre != nil {
		di.pre = nil // net/http dials once per NewClientConn
		return pre, nil
	}
	uc, err := p.c.Dial(ctx, di.h)
	if err != nil {
		return nil, err
	}
	return &upConn{UpstreamConn: uc}, nil
}

// dialTLS dials through the cluster and runs the TLS handshake with the
// kind's ALPN; it returns the *tls.Conn itself, which net/http needs to see
// the negotiated protocol.
func (p *Pool) dialTLS(ctx context.Context, network, addr string, k kind) (net.Conn, error) {
	raw, err := p.dial(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	cfg := p.opts.TLS.Clone()
	cfg.NextProtos = k.alpn()
	if cfg.ServerName == "" {
		cfg.ServerName, _, _ = net.SplitHostPort(addr)
	}
	tc := tls.Client(raw, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, err
	}
	if di, _ := ctx.Value(dialKey{}).(*dialInfo); di != nil {
		di.alpn = tc.ConnectionState().NegotiatedProtocol
	}
	return tc, nil
}

// upConn counts bytes and tells a close after the server's EOF or reset
// (upstream_cx_destroy_remote) from sluice's own.
type upConn struct {
	*cluster.UpstreamConn
	remote atomic.Bool
}

func (u *upConn) Read(b []byte) (int, error) {
	n, err := u.UpstreamConn.Read(b)
	if n > 0 {
		u.CountBytes(uint64(n), 0)
	}
	if err != nil && !errors.Is(err, net.ErrClosed) {
		u.remote.Store(true)
	}
	return n, err
}

func (u *upConn) Write(b []byte) (int, error) {
	n, err := u.UpstreamConn.Write(b)
	if n > 0 {
		u.CountBytes(0, uint64(n))
	}
	return n, err
}

// Close closes the connection once, as remote when the server went first.
func (u *upConn) Close() error { return u.CloseBy(u.remote.Load()) }

// decayMeans is the half-life of a connection's request-time estimate, in
// mean request times of the host's connections. (Halving every mean or
// every half mean was tried for 8 processes and 32 streams: more retries of
// busy processes, max/mean no better, see docs/http-pool.md.)
const decayMeans = 4.0
