package proxy

import (
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluice-proxy/sluice/config"
	"github.com/sluice-proxy/sluice/filters"
	"github.com/sluice-proxy/sluice/tlsctx"
)

// chain is one built filter chain: its match, optional TLS termination, the
// observers in order and the terminal.
type chain struct {
	name      string
	match     chainMatch
	tls       *tlsctx.Server
	tlsLater  bool // an observer terminates TLS inside the stream
	observers []filters.ObserverFilter
	terminal  filters.TerminalFilter
	// handshakeTimeout bounds TLS termination
	// (transport_socket_connect_timeout).
	handshakeTimeout time.Duration
}

// chainSet is the immutable set of chains of one listener config; a reload
// swaps the whole set, and connections keep the set they were accepted with.
type chainSet struct {
	// listener is the listener config the set was built from; connections
	// read it (never the listener's own field, which a reload replaces).
	listener  config.Listener
	alog      *accessLog
	chains    []*chain
	dflt      *chain // default_filter_chain, or nil
	needHello bool   // some chain matches on SNI, ALPN or transport, or terminates TLS
	lfilters  []listenerFilter

	// Built filters that hold resources (redis_proxy's upstream pools,
	// kafka_mesh's clients) implement filters.Closer; they are closed once
	// the set is retired by a reload or shutdown and its last connection
	// has ended, or at once when the build fails.
	closers   []filters.Closer
	log       *slog.Logger
	refs      atomic.Int64
	retired   atomic.Bool
	closeOnce sync.Once
}

// release drops one connection's reference.
func (cs *chainSet) release() {
	if cs.refs.Add(-1) == 0 && cs.retired.Load() {
		cs.close()
	}
}

// retire marks the set replaced; its filters close when no connection uses it.
func (cs *chainSet) retire() {
	cs.retired.Store(true)
	if cs.refs.Load() == 0 {
		cs.close()
	}
}

func (cs *chainSet) close() {
	cs.closeOnce.Do(func() {
		for _, c := range cs.closers {
			if err := c.Close(); err != nil && cs.log != nil {
				cs.log.Warn("closing a retired filter", "filter", fmt.Sprintf("%T", c), "err", err)
			}
		}
	})
}

// buildChains builds every chain of a listener config. It returns errors with
// the config path so that a bad reload is refused before anything changes.
// A failed build closes the filters it had built.
func buildChains(l *config.Listener, lpath string, env *filters.Env) (_ *chainSet, err error) {
	cs := &chainSet{listener: *l, log: env.Log}
	defer func() {
		if err != nil {
			cs.retire()
		}
	}()
	lfs, hasTLS, err := buildListenerFilters(l, lpath, env.Stats)
	if err != nil {
		return nil, err
	}
	cs.lfilters = lfs
	for i, fc := range l.Chains() {
		cpath := fmt.Sprintf("%s.filter_chains[%d]", lpath, i)
		if len(l.Filters) > 0 {
			cpath = lpath
		}
		c, err := cs.buildChain(&fc, cpath, env)
		if err != nil {
			return nil, err
		}
		cs.chains = append(cs.chains, c)
	}
	if l.DefaultFilterChain != nil {
		c, err := cs.buildChain(l.DefaultFilterChain, lpath+".default_filter_chain", env)
		if err != nil {
			return nil, err
		}
		cs.dflt = c
	}
	if cs.needHello && !hasTLS {
		// Chains match on TLS facts or terminate TLS: read the ClientHello
		// as sluice always did, after the configured listener filters.
		cs.lfilters = append(cs.lfilters, newTLSInspector(&config.TLSInspectorConfig{}, env.Stats))
	}
	return cs, nil
}

// buildChain builds one chain's match, TLS and filters.
func (cs *chainSet) buildChain(fc *config.FilterChain, cpath string, env *filters.Env) (*chain, error) {
	c := &chain{name: fc.Name, match: newChainMatch(&fc.Match), handshakeTimeout: fc.TransportSocketConnectTimeout.D()}
	if c.handshakeTimeout <= 0 {
		c.handshakeTimeout = helloTimeout
	}
	if fc.Match.NeedsClientHello() {
		cs.needHello = true
	}
	if fc.TLS != nil {
		tc, err := tlsctx.NewServer(fc.TLS, tlsctx.Options{Path: cpath + ".tls", Log: env.Log, Secrets: env.Secrets})
		if err != nil {
			return nil, err
		}
		cs.closers = append(cs.closers, tc)
		c.tls = tc
		cs.needHello = true
	}
	cenv := *env
	cenv.Chain = cpath
	if fc.Name != "" {
		cenv.Chain = fc.Name
	}
	env = &cenv
	for j, f := range fc.Filters {
		fac, ok := env.Factories.Lookup(f.Name)
		if !ok {
			return nil, fmt.Errorf("%s.filters[%d]: unknown filter %q", cpath, j, f.Name)
		}
		built, err := fac.Build(f.Config, env)
		if err != nil {
			return nil, fmt.Errorf("%s.filters[%d].%s: %w", cpath, j, f.Name, err)
		}
		cl, err := filters.AsCloser(built)
		if err != nil {
			return nil, fmt.Errorf("%s.filters[%d].%s: %w", cpath, j, f.Name, err)
		}
		if cl != nil {
			cs.closers = append(cs.closers, cl)
		}
		switch v := built.(type) {
		case filters.TerminalFilter:
			c.terminal = v
		case filters.ObserverFilter:
			c.observers = append(c.observers, v)
			if t, ok := v.(filters.TLSTerminator); ok && t.TerminatesTLS() {
				c.tlsLater = true
			}
		default:
			return nil, fmt.Errorf("%s.filters[%d].%s: factory built %T, neither observer nor terminal", cpath, j, f.Name, built)
		}
	}
	return c, nil
}
