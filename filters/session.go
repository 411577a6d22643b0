package filters

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/sluice-proxy/sluice/internal/guard"
)

// Session is what the filters of one connection share: facts about the
// connection, metadata published by observers for later filters and the
// access log, and the access record the terminal fills in.
//
// Fields set by the server before the chain runs are read-only afterwards.
// Metadata, Route and Access are safe for concurrent use.
type Session struct {
	ID       uint64
	Listener string
	Start    time.Time
	// Downstream is the accepted connection itself, below any TLS or tap.
	Downstream net.Conn
	// Local and Remote are the connection's addresses as Envoy sees them:
	// a PROXY protocol header (proxy_protocol listener filter) or
	// SO_ORIGINAL_DST (original_dst) replace the socket's.
	Local  netip.AddrPort
	Remote netip.AddrPort
	// DirectRemote is the socket's peer (rbac direct_remote_ip, chain
	// match direct_source_prefix_ranges), whatever a PROXY header said.
	DirectRemote netip.AddrPort
	// ProxyTLVs are PROXY protocol v2 TLVs kept by the proxy_protocol
	// listener filter's pass_through_tlvs, for an upstream PROXY header.
	ProxyTLVs []ProxyTLV
	// Cancel, set by the server, cancels the context the terminal serves
	// under (as a drain does); Abort uses it. Nil in tests that build a
	// Session by hand.
	Cancel func()
	// SNI and ALPN come from the ClientHello when the chain match or TLS
	// termination read it; empty otherwise.
	SNI  string
	ALPN []string
	// TLS is set when the filter chain terminated TLS (or an observer did,
	// through SetTLS).
	TLS *tls.ConnectionState
	// TLSLater is set by the server, before any observer runs, when a
	// filter of the chain terminates TLS inside the stream (mysql_proxy's
	// or postgres_proxy's terminate_ssl): connection checks that look at
	// the client certificate wait for it (DeferConnCheck).
	TLSLater bool
	Log      *slog.Logger
	// Guard logs and counts a panic contained while working for this
	// connection; nil logs to slog's default and counts nothing.
	Guard *guard.Guard

	mu       sync.Mutex
	meta     []metaEntry // a slice: sessions carry one or two namespaces
	route    string
	onClose  []func()
	sqlGates []SQLGate
	reqGates []RequestGate
	upWrap   UpstreamWrapper
	access   AccessRecord
	buffered func() int64

	connChecks []func() error // DeferConnCheck's, until ConnChecksReady
	checksRan  bool
	drain      drainSignal

	end detachState // detach.go
}

// ProxyTLV is one PROXY protocol v2 type-length-value.
type ProxyTLV struct {
	Type  byte
	Value []byte
}

// AccessRecord is what the access log writes for the connection; terminals
// fill it in through Session.UpdateAccess.
type AccessRecord struct {
	Cluster           string
	UpstreamHost      string
	UpstreamLocal     string
	BytesReceived     uint64 // from downstream
	BytesSent         uint64 // to downstream
	TerminationReason string
	Fields            map[string]any // extra per-filter fields (matched rbac policy, ...)
}

// UpdateAccess changes the access record under the session's lock.
func (s *Session) UpdateAccess(f func(a *AccessRecord)) {
	s.mu.Lock()
	f(&s.access)
	s.mu.Unlock()
}

// AccessSnapshot returns a copy of the access record.
func (s *Session) AccessSnapshot() AccessRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.access
	if len(c.Fields) > 0 {
		c.Fields = make(map[string]any, len(s.access.Fields))
		for k, v := range s.access.Fields {
			c.Fields[k] = v
		}
	}
	return c
}

// SetMetadata publishes v under namespace ns (Envoy's dynamic metadata, e.g.
// "envoy.filters.network.postgres_proxy"), replacing what was there.
func (s *Session) SetMetadata(ns string, v any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.meta {
		if s.meta[i].ns == ns {
			s.meta[i].v = v
			return
		}
	}
	s.meta = append(s.meta, metaEntry{ns, v})
}

// metaEntry is one namespace's metadata. A session keeps them in a slice,
// not a map: one namespace (the usual case, kept for the connection's whole
// life) costs 32 bytes instead of a map's ~300, which counts with ten
// thousand idle connections (issue 20).
type metaEntry struct {
	ns string
	v  any
}

// Metadata returns what was published under ns.
func (s *Session) Metadata(ns string) (any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.meta {
		if e.ns == ns {
			return e.v, true
		}
	}
	return nil, false
}

// SetRoute lets an observer choose the terminal's upstream cluster (routing by
// database, user or SNI). Terminals that support it dial only after the
// observers have run, so the route is known by then.
func (s *Session) SetRoute(cluster string) {
	s.mu.Lock()
	s.route = cluster
	s.mu.Unlock()
}

// Route returns the cluster chosen by an observer, or "".
func (s *Session) Route() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.route
}

// SetTLS records a TLS session terminated by an observer (postgres or mysql
// SSL termination), so later filters (rbac principals) see it.
func (s *Session) SetTLS(st *tls.ConnectionState, sni string) {
	s.mu.Lock()
	s.TLS = st
	if sni != "" {
		s.SNI = sni
	}
	s.mu.Unlock()
}

// TLSTerminator is implemented by observers that may terminate TLS inside
// the stream; the server sets Session.TLSLater when one says it does.
type TLSTerminator interface {
	TerminatesTLS() bool
}

// DeferConnCheck runs check now or, when TLSLater, keeps it until the
// terminating filter calls ConnChecksReady (after its TLS handshake, or
// when the client went on without TLS), so that a check on the client
// certificate sees it.
func (s *Session) DeferConnCheck(check func() error) error {
	s.mu.Lock()
	if s.TLSLater && !s.checksRan {
		s.connChecks = append(s.connChecks, check)
		s.mu.Unlock()
		return nil
	}
	s.mu.Unlock()
	return check()
}

// ConnChecksReady runs the deferred connection checks once; the first
// error refuses the connection.
func (s *Session) ConnChecksReady() error {
	s.mu.Lock()
	checks := s.connChecks
	s.connChecks, s.checksRan = nil, true
	s.mu.Unlock()
	for _, c := range checks {
		if err := c(); err != nil {
			return err
		}
	}
	return nil
}

// TLSState returns TLS under the session's lock (SetTLS may run on another
// goroutine).
func (s *Session) TLSState() *tls.ConnectionState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.TLS
}

// UpstreamWrapper prepares a terminal's freshly dialed upstream connection
// before any downstream byte is written to it, and returns the connection to
// use from then on (postgres_proxy's upstream_ssl: an SSLRequest, then TLS).
// An error makes the terminal close the upstream and give up as on a failed
// connect.
type UpstreamWrapper func(ctx context.Context, up net.Conn) (net.Conn, error)

// SetUpstreamWrapper lets an observer wrap the upstream connection that the
// terminal dials for this session; the last one set wins. Terminals that
// dial one upstream per downstream connection (tcp_proxy) call WrapUpstream
// right after connecting.
func (s *Session) SetUpstreamWrapper(w UpstreamWrapper) {
	s.mu.Lock()
	s.upWrap = w
	s.mu.Unlock()
}

// WrapUpstream runs the wrapper set by an observer over up, or returns up.
func (s *Session) WrapUpstream(ctx context.Context, up net.Conn) (net.Conn, error) {
	s.mu.Lock()
	w := s.upWrap
	s.mu.Unlock()
	if w == nil {
		return up, nil
	}
	return w(ctx, up)
}

// OnClose registers f to run once when the connection ends, after the
// terminal returns, in reverse order of registration.
func (s *Session) OnClose(f func()) {
	s.mu.Lock()
	s.onClose = append(s.onClose, f)
	s.mu.Unlock()
}

// RunOnClose runs the registered close hooks; the server calls it.
func (s *Session) RunOnClose() {
	s.mu.Lock()
	fs := s.onClose
	s.onClose = nil
	s.mu.Unlock()
	for i := len(fs) - 1; i >= 0; i-- {
		fs[i]()
	}
}

// Contain records a panic recovered while working for this connection: it is
// logged with its stack and the connection's identity, counted, marked in the
// access record, and the downstream connection is closed so that every
// goroutine serving it ends. The rest of the process carries on.
func (s *Session) Contain(p *guard.PanicError) {
	g := guard.Guard{Log: s.Log} // s.Log carries the connection's id and remote address
	if s.Guard != nil {
		g.Panics = s.Guard.Panics
		if g.Log == nil {
			g.Log = s.Guard.Log
		}
	}
	g.Contain(p, "closing the connection")
	s.UpdateAccess(func(a *AccessRecord) { a.TerminationReason = "panic" })
	if s.Downstream != nil {
		s.Downstream.Close()
	}
}

// Recover contains a panic of the goroutine it is deferred in; every
// goroutine that works for the session defers it first (Go does).
func (s *Session) Recover() {
	if v := recover(); v != nil {
		s.Contain(guard.Recovered(v))
	}
}

// Go runs fn on a new goroutine that works for the session: a panic in it
// closes this connection only.
func (s *Session) Go(fn func()) {
	go func() {
		defer s.Recover()
		fn()
	}()
}
