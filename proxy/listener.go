package proxy

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/stats"
	"github.com/sluice-proxy/sluice/tlsctx"
)

// helloTimeout bounds the wait for a TLS ClientHello (Envoy's
// listener_filters_timeout default is 15s).
const helloTimeout = 15 * time.Second

// listener is one bound address with its current chains and open connections.
type listener struct {
	srv    *Server
	cfg    config.Listener // guarded by Server.mu; connections read their chainSet's copy
	ln     net.Listener
	addr   string // bound address
	chains atomic.Pointer[chainSet]
	st     listenerStats
	log    *slog.Logger

	// adopted are listeners that were draining at this address when this
	// one started: their connections are kept as this listener's, and drain
	// when it drains (see adopt). Set before the listener runs.
	adopted []*listener

	mu      sync.Mutex
	conns   map[*activeConn]struct{}
	wg      sync.WaitGroup // accept loop and connections
	closing bool

	dlMu     sync.Mutex
	deadline time.Time        // when draining connections are closed; zero: never (adopted)
	kick     chan struct{}    // tells drain that deadline changed
	drained  atomic.Bool      // drain returned: no connection is left
	ov       listenerOverload // the overload manager's hold on accepting
	// keepAliveOff: turn off the TCP keep-alive Go set on each accepted
	// connection (an inherited socket; see listenConfig). Set before the
	// listener runs.
	keepAliveOff bool
}

type activeConn struct {
	raw    net.Conn
	cancel context.CancelFunc
	ov     connOverload // what the overload manager asks and does
}

type listenerStats struct {
	cxTotal, cxDestroy, noChainMatch *stats.Counter
	cxActive                         *stats.Gauge
	cxLength                         *stats.Histogram
	// Envoy's downstream_cx_overload_reject, downstream_global_cx_overflow.
	overloadReject, globalOverflow *stats.Counter
	// Envoy's downstream_pre_cx_timeout and _active (listener filters),
	// downstream_cx_overflow (max_connections) and
	// downstream_cx_transport_socket_connect_timeout (TLS handshakes).
	preCxTimeout, cxOverflow, transportTimeout *stats.Counter
	preCxActive                                *stats.Gauge
	// ssl is listener.<addr>.ssl.*, Envoy's TLS handshake counters.
	ssl *tlsctx.Stats
}

// listenerScope is listener.<addr>, the address tagged as Envoy does.
func listenerScope(root *stats.Scope, addr string) *stats.Scope {
	return root.Sub("listener").Tagged("envoy_listener_address", strings.ReplaceAll(addr, ":", "_"))
}

func newListenerStats(root *stats.Scope, addr string) listenerStats {
	sc := listenerScope(root, addr)
	return listenerStats{
		ssl:     tlsctx.NewStats(sc, "server_ssl_socket_factory"),
		cxTotal: sc.Counter("downstream_cx_total"), cxDestroy: sc.Counter("downstream_cx_destroy"),
		noChainMatch: sc.Counter("no_filter_chain_match"), cxActive: sc.Gauge("downstream_cx_active"),
		cxLength:       sc.Histogram("downstream_cx_length_ms"),
		overloadReject: sc.Counter("downstream_cx_overload_reject"),
		globalOverflow: sc.Counter("downstream_global_cx_overflow"),
		preCxTimeout:   sc.Counter("downstream_pre_cx_timeout"), preCxActive: sc.Gauge("downstream_pre_cx_active"),
		cxOverflow:       sc.Counter("downstream_cx_overflow"),
		transportTimeout: sc.Counter("downstream_cx_transport_socket_connect_timeout"),
	}
}

// Addr returns the bound address.
func (l *listener) Addr() string { return l.addr }

func (l *listener) acceptLoop() {
	defer l.wg.Done()
	var delay time.Duration
	for {
		if !l.waitAccepting() {
			return
		}
		raw, err := l.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if isTimeout(err) {
				continue // the overload gate interrupted Accept
			}
			// Out of file descriptors and the like: back off, keep serving.
			delay = min(max(delay*2, 5*time.Millisecond), time.Second)
			l.log.Warn("accept failed", "err", err, "retry_in", delay)
			time.Sleep(delay)
			continue
		}
		delay = 0
		if l.keepAliveOff {
			if tc, ok := raw.(*net.TCPConn); ok {
				tc.SetKeepAlive(false)
			}
		}
		// The gate again, with the connection in hand: Go's Accept can
		// return a connection after the pause's past deadline (a readiness
		// event that lands between the deadline waking Accept and Accept
		// running again wins over the deadline). Such a connection waits
		// here, as it would have in the backlog, and is served on resume,
		// or at once if the listener stops meanwhile (served like any
		// connection accepted before a drain).
		l.waitAccepting() // false: stopped; the loop's next wait returns
		if !l.admit(raw) {
			continue
		}
		ctx, cancel := context.WithCancel(context.Background())
		ac := &activeConn{raw: raw, cancel: cancel}
		// Accepted while stopAccepting ran: served like the others (drain
		// waits for it; this loop's own wg count keeps the Add legal), since
		// closing it would reset a client that a hot restart's new process
		// would otherwise have served.
		l.mu.Lock()
		if max := l.chains.Load().listener.MaxConnections; max > 0 && len(l.conns) >= int(max) {
			// Envoy's per-listener connection limit: refused at once.
			l.mu.Unlock()
			l.st.cxOverflow.Inc()
			cancel()
			raw.Close()
			l.srv.Overload.ReleaseConnection()
			continue
		}
		l.conns[ac] = struct{}{}
		l.wg.Add(1)
		l.mu.Unlock()
		go l.serve(ctx, ac, l.acquireChains())
	}
}

// acquireChains returns the current chain set with a reference taken for one
// connection. The re-check makes a reference taken while a reload swaps the
// set either count (the swap came after) or be given back (it came before).
func (l *listener) acquireChains() *chainSet {
	for {
		cs := l.chains.Load()
		cs.refs.Add(1)
		if l.chains.Load() == cs {
			return cs
		}
		cs.release()
	}
}

// setChains installs a new chain set and retires the old one.
func (l *listener) setChains(cs *chainSet) {
	for _, ch := range cs.chains {
		if ch.tls != nil {
			ch.tls.SetStats(l.st.ssl) // rotations count at the bound address
		}
	}
	if old := l.chains.Swap(cs); old != nil {
		old.retire()
	}
}

// serve runs one connection through its filter chain.
func (l *listener) serve(ctx context.Context, ac *activeConn, cs *chainSet) {
	start := time.Now()
	raw := ac.raw
	l.st.cxTotal.Inc()
	l.st.cxActive.Inc()
	l.srv.totalConns.Inc()
	s := &filters.Session{
		ID: l.srv.nextID.Add(1), Listener: cs.listener.Name, Start: start, Downstream: raw,
		Local: addrPort(raw.LocalAddr()), Remote: addrPort(raw.RemoteAddr()),
	}
	s.DirectRemote = s.Remote
	ac.bind(s)
	l.mu.Lock()
	draining := l.closing // a drain that began before bind could not signal s
	l.mu.Unlock()
	if draining {
		s.StartDrain()
	}
	s.Log = connLogger(l.log, s.ID, s.Remote)
	s.Guard = l.srv.guard
	var c filters.Conn = raw.(*net.TCPConn)
	// end is the end of the connection: here when serve returns, or at the
	// terminal's Finish when it detached (an event loop moves the bytes
	// and no goroutine waits for them; filters/detach.go).
	end := func() {
		ac.cancel()
		raw.Close()
		l.srv.Overload.ReleaseConnection() // before the gauges tests poll
		s.RunOnClose()
		l.mu.Lock()
		delete(l.conns, ac)
		l.mu.Unlock()
		l.st.cxActive.Dec()
		l.srv.totalConns.Dec()
		l.st.cxDestroy.Inc()
		l.st.cxLength.Record(float64(time.Since(start).Milliseconds()))
		if cs.alog != nil {
			cs.alog.write(s, time.Since(start))
		}
		cs.release()
		l.wg.Done()
	}
	s.OnFinish(func() {
		c.Close()
		end()
	})
	defer func() {
		if !s.Detached() {
			end()
		}
	}()
	// Deferred after the cleanup so it runs first: a panic in a filter
	// closes this connection only, and the cleanup then runs as usual.
	defer s.Recover()
	facts := connFacts{local: s.Local, remote: s.Remote, direct: s.Remote.Addr()}
	if len(cs.lfilters) > 0 {
		lc := &lfConn{raw: raw.(*net.TCPConn), facts: &facts, s: s}
		if err := l.runListenerFilters(cs, lc); err != nil {
			s.Log.Info("listener filter closed connection", "err", err)
			s.UpdateAccess(func(a *filters.AccessRecord) { a.TerminationReason = "listener_filter: " + err.Error() })
			return
		}
		if len(lc.buf) > 0 {
			c = &filters.PrefixConn{TCPConn: raw.(*net.TCPConn), Prefix: lc.buf}
		}
	}
	ch := cs.pick(&facts)
	if ch == nil {
		l.st.noChainMatch.Inc()
		s.UpdateAccess(func(a *filters.AccessRecord) { a.TerminationReason = "no_filter_chain_match" })
		return
	}
	if ch.tls != nil {
		hctx, cancel := context.WithTimeout(ctx, ch.handshakeTimeout)
		tc, err := ch.tls.Handshake(hctx, c, l.st.ssl)
		cancel()
		if err != nil {
			reason := "tls_handshake_failed"
			if hctx.Err() == context.DeadlineExceeded && ctx.Err() == nil {
				l.st.transportTimeout.Inc()
				reason = "transport_socket_connect_timeout"
			}
			s.Log.Info("TLS handshake failed", "err", err)
			s.UpdateAccess(func(a *filters.AccessRecord) { a.TerminationReason = reason + ": " + err.Error() })
			return
		}
		st := tc.ConnectionState()
		s.TLS = &st
		c = tc
	}
	s.TLSLater = ch.tlsLater
	for _, o := range ch.observers {
		next, err := o.Observe(s, c)
		if err != nil {
			s.Log.Info("filter closed connection", "err", err)
			s.UpdateAccess(func(a *filters.AccessRecord) {
				if a.TerminationReason == "" {
					a.TerminationReason = "filter: " + err.Error()
				}
			})
			c.Close()
			return
		}
		c = next
	}
	ch.terminal.Serve(ctx, s, c)
	if !s.Detached() {
		c.Close()
	}
}

// activeConns returns the number of open connections, adopted ones
// included.
func (l *listener) activeConns() int {
	l.mu.Lock()
	n := len(l.conns)
	l.mu.Unlock()
	for _, a := range l.adopted {
		n += a.activeConns()
	}
	return n
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func addrPort(a net.Addr) netip.AddrPort {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.AddrPort()
	}
	ap, _ := netip.ParseAddrPort(a.String())
	return ap
}
